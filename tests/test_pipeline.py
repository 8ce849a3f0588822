"""The tf.data pipeline: network units, round trip, resize, shake, errors, sharding."""
import json

import numpy as np
import pytest
import tensorflow as tf

from solar_euv.dataset import count_examples, dataset_info, make_dataset
from solar_euv.dataset.pipeline import area_downsample, shake_images, shake_padding
from solar_euv.dataset.records import to_float16
from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.scaling import DEFAULT_SCALING, Scaling, disk_mask
from test_records import write_dataset, write_raw

SIZE = 64
OTHER = Scaling(hmi_limit=1000.0, aia_log_max=12.0, mask_off_disk=False)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """train: 6 observations (the 4th lacks 193); test: 2; val: empty."""
    tmp = tmp_path_factory.mktemp("ds")
    train = write_raw(tmp / "raw", n=6, missing={3: ("193",)})
    test = write_raw(tmp / "raw", n=2, month="2017-08", seed=3, missing={0: ("193",), 1: ("193",)})
    out, _ = write_dataset(tmp, {"train": train, "val": [], "test": test})
    return out, train


def stored(path):
    """What the pipeline sees of a raw array: float16 values, NaN -> 0."""
    a = to_float16(np.load(path)).astype(np.float32)
    return np.where(np.isnan(a), 0.0, a)


def expected(observation, passbands, scaling=DEFAULT_SCALING, factor=1):
    def binned(a):
        n = a.shape[0] // factor
        return a.reshape(n, factor, n, factor).mean(axis=(1, 3))

    mag = scaling.hmi_network_input(binned(stored(observation.sources["hmi"])))
    tgt = [scaling.aia_to_network(binned(stored(observation.sources[p]))) for p in passbands]
    return mag[..., None], scaling.apply_mask(np.stack(tgt, axis=-1))


@pytest.mark.parametrize("scaling", [DEFAULT_SCALING, OTHER])
def test_tf_scaling_equals_numpy_scaling(scaling):
    rng = np.random.default_rng(0)
    gauss = np.concatenate([rng.normal(0, 2000, 500), [np.nan, 1e5, -1e5, 0.0]])
    dn = np.concatenate([rng.lognormal(4, 3, 500), [np.nan, -5.0, 0.0, 1e9, 2 ** 14]])
    np.testing.assert_allclose(scaling.hmi_to_network(gauss, xp=tf).numpy(),
                               scaling.hmi_to_network(gauss), atol=1e-6)
    np.testing.assert_allclose(scaling.aia_to_network(dn, xp=tf).numpy(),
                               scaling.aia_to_network(dn), atol=2e-6)
    images = rng.uniform(-1, 1, (SIZE, SIZE, 3)).astype(np.float32)
    np.testing.assert_array_equal(scaling.apply_mask(tf.constant(images), xp=tf).numpy(),
                                  scaling.apply_mask(images))
    # The magnetogram's off-disk value (0 by default, -1 in models saved before it existed).
    field = images[..., 0]
    np.testing.assert_array_equal(
        scaling.apply_mask(tf.constant(field), scaling.hmi_off_disk, xp=tf).numpy(),
        scaling.apply_mask(field, value=scaling.hmi_off_disk))


def test_round_trip_equals_numpy_within_float16(dataset):
    out, train = dataset
    ds = make_dataset(out, "train", ["193", "171"], batch_size=2, training=False)
    assert ds.element_spec[0].shape.as_list() == [None, SIZE, SIZE, 1]
    assert ds.element_spec[1].shape.as_list() == [None, SIZE, SIZE, 2]
    mags, tgts = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    mags, tgts = np.concatenate(mags), np.concatenate(tgts)
    kept = [o for o in train if "193" in o.sources]  # the 4th is skipped
    assert len(mags) == len(kept) == count_examples(out, "train", "171,193") == 5
    for i, obs in enumerate(kept):
        mag, tgt = expected(obs, ("171", "193"))  # table order, not the order asked
        np.testing.assert_allclose(mags[i], mag, atol=2e-6)
        np.testing.assert_allclose(tgts[i], tgt, atol=2e-6)
        # and within float16 precision of the raw physical values
        raw = np.load(obs.sources["171"])
        ok = np.isfinite(raw) & (raw < 2 ** 14 - 1) & disk_mask(SIZE, 0.99)
        back = DEFAULT_SCALING.aia_from_network(tgts[i][..., 0])
        np.testing.assert_allclose(back[ok], raw[ok], rtol=2e-3, atol=1e-3)


def test_passband_subset_and_other_scaling(dataset):
    out, train = dataset
    ds = make_dataset(out, "train", "171", batch_size=6, training=False,
                      scaling=OTHER.to_dict())
    (mag, tgt), = list(ds)
    assert tgt.shape == (6, SIZE, SIZE, 1)
    for i, obs in enumerate(train):
        m, t = expected(obs, ("171",), OTHER)
        np.testing.assert_allclose(mag[i], m, atol=2e-6)
        np.testing.assert_allclose(tgt[i], t, atol=2e-6)


def test_area_resize_keeps_disk_exact(dataset):
    out, train = dataset
    ds = make_dataset(out, "train", "171", batch_size=6, training=False, image_size=32)
    (mag, tgt), = list(ds)
    assert mag.shape == (6, 32, 32, 1)
    m, t = expected(train[0], ("171",), factor=2)
    np.testing.assert_allclose(mag[0], m, atol=2e-6)
    np.testing.assert_allclose(tgt[0], t, atol=2e-5)
    block = np.arange(16.0).reshape(4, 4, 1)
    np.testing.assert_array_equal(area_downsample(tf.constant(block), 2).numpy()[..., 0],
                                  [[2.5, 4.5], [10.5, 12.5]])


def test_shake_moves_input_and_target_together():
    rng = np.random.default_rng(5)
    images = tf.constant(rng.normal(size=(SIZE, SIZE, 3)).astype(np.float32))
    p = 3
    padded = np.pad(images.numpy(), ((p, p), (p, p), (0, 0)), mode="reflect")
    offsets = set()
    for s in range(8):
        out = shake_images(images, tf.constant([7, s], tf.int64), p).numpy()
        again = shake_images(images, tf.constant([7, s], tf.int64), p).numpy()
        np.testing.assert_array_equal(out, again)  # stateless: same seed, same shift
        found = [(dy, dx) for dy in range(2 * p + 1) for dx in range(2 * p + 1)
                 if np.array_equal(padded[dy:dy + SIZE, dx:dx + SIZE], out)]
        assert len(found) == 1  # one offset fits all three channels at once
        offsets.add(found[0])
    assert len(offsets) > 1
    assert shake_padding(1024) == 15 and shake_padding(256) == 3 and shake_padding(64) == 0


@pytest.fixture(scope="module")
def dataset128(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ds128")
    out, _ = write_dataset(tmp, {"train": write_raw(tmp / "raw", n=4, size=128)}, size=128)
    return out


def _epoch(ds):
    return [(x.numpy(), y.numpy()) for x, y in ds]


def test_pipeline_shake_only_when_training(dataset128):
    kw = dict(split="train", passbands="171,193", batch_size=1, shuffle_seed=3,
              scaling=OTHER)
    plain = _epoch(make_dataset(dataset128, training=True, shake=False, **kw))
    shaken_ds = make_dataset(dataset128, training=True, **kw)
    shaken = _epoch(shaken_ds)
    assert len(plain) == len(shaken) == 4
    p = shake_padding(128)
    moved = 0
    for (x0, y0), (x1, y1) in zip(plain, shaken):
        both0 = np.pad(np.concatenate([x0, y0], -1)[0], ((p, p), (p, p), (0, 0)), "reflect")
        both1 = np.concatenate([x1, y1], -1)[0]
        fits = [(dy, dx) for dy in range(2 * p + 1) for dx in range(2 * p + 1)
                if np.array_equal(both0[dy:dy + 128, dx:dx + 128], both1)]
        assert len(fits) == 1
        moved += fits[0] != (p, p)
    assert moved > 0
    # deterministic for a seed; new shifts on the next pass
    assert all(np.array_equal(a[0], b[0]) for a, b in
               zip(shaken, _epoch(make_dataset(dataset128, training=True, **kw))))
    second = _epoch(shaken_ds)
    assert any(not np.array_equal(a[0], b[0]) for a, b in
               zip(sorted(shaken, key=lambda e: e[1].sum()),
                   sorted(second, key=lambda e: e[1].sum())))
    # evaluation: no shake, no shuffle
    evaluation = _epoch(make_dataset(dataset128, training=False, **kw))
    unshaken = _epoch(make_dataset(dataset128, training=False, shake=True, **kw))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(evaluation, unshaken))


def test_training_shuffles_with_seed_and_drops_remainder(dataset):
    out, _ = dataset
    kw = dict(split="train", passbands="171", batch_size=4)
    ds = make_dataset(out, training=True, shuffle_seed=1, **kw)
    assert ds.element_spec[0].shape.as_list() == [4, SIZE, SIZE, 1]
    first = _epoch(ds)
    assert len(first) == 1  # 6 examples, batch 4, remainder dropped
    again = _epoch(make_dataset(out, training=True, shuffle_seed=1, **kw))
    np.testing.assert_array_equal(first[0][0], again[0][0])
    repeated = make_dataset(out, training=True, shuffle_seed=1, repeat=3, **kw)
    assert repeated.cardinality() == len(_epoch(repeated)) == 4  # 18 examples
    evaluation = make_dataset(out, training=False, **kw)
    assert evaluation.cardinality() == len(_epoch(evaluation)) == 2  # 4 + 2
    endless = make_dataset(out, training=True, repeat=-1, **kw)
    assert len(_epoch(endless.take(7))) == 7


def test_file_auto_sharding(dataset):
    out, _ = dataset
    ds = make_dataset(out, "train", "171", batch_size=1, training=False)
    policy = ds.options().experimental_distribute.auto_shard_policy
    assert policy == tf.data.experimental.AutoShardPolicy.FILE
    from tensorflow.python.data.experimental.ops.distribute import _AutoShardDataset

    ds = make_dataset(out, "train", "171", batch_size=1, training=True, shake=False)
    seen = [sorted(float(x.numpy().sum()) for x, _ in _AutoShardDataset(ds, 2, k))
            for k in (0, 1)]
    assert len(seen[0]) == len(seen[1]) == 3  # 6 one-record shards, split by file
    assert not set(seen[0]) & set(seen[1])


def test_errors(dataset):
    out, _ = dataset
    with pytest.raises(InputError, match="split 'val' has no example with passband\\(s\\) 171"):
        make_dataset(out, "val", "171", 1, training=True)
    with pytest.raises(InputError, match="split 'test' has no example with passband\\(s\\) "
                                         "171, 193 \\(2 examples in all\\)"):
        make_dataset(out, "test", ["171", "193"], 1, training=False)
    with pytest.raises(InputError, match="has no split 'validation' \\(its splits: 'train', "
                                         "'val', 'test'\\)"):
        make_dataset(out, "validation", "171", 1, training=False)
    with pytest.raises(InputError, match="was prepared without passband\\(s\\) 304"):
        make_dataset(out, "train", "171,304", 1, training=False)
    with pytest.raises(SolarEUVError, match="unknown AIA passband '999'"):
        make_dataset(out, "train", "999", 1, training=False)
    with pytest.raises(SolarEUVError, match="image_size 48 must divide the dataset's grid "
                                            "size 64"):
        make_dataset(out, "train", "171", 1, training=False, image_size=48)
    with pytest.raises(SolarEUVError, match="must divide"):
        make_dataset(out, "train", "171", 1, training=False, image_size=128)
    with pytest.raises(SolarEUVError, match="repeat must be a number of passes"):
        make_dataset(out, "train", "171", 1, training=True, repeat=0)
    with pytest.raises(SolarEUVError, match="verify must be one of none, size, full"):
        make_dataset(out, "train", "171", 1, training=True, verify="yes")
    with pytest.raises(SolarEUVError, match="needs its 'root'"):
        make_dataset({"schema_version": 1}, "train", "171", 1, training=False)


def test_manifest_errors_reach_make_dataset(tmp_path, dataset):
    with pytest.raises(InputError, match="has no manifest.json"):
        make_dataset(tmp_path, "train", "171", 1, training=True)
    out, _ = dataset
    info = dataset_info(out)
    assert info["root"] == str(out) and info["splits"]["train"]["examples"] == 6
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["schema_version"] = 2
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="has schema version 2"):
        make_dataset(tmp_path / "manifest.json", "train", "171", 1, training=True)


def test_truncated_shard_refused_before_reading(tmp_path):
    out, _ = write_dataset(tmp_path, {"train": write_raw(tmp_path / "raw", n=2)})
    shard = out / "train-00001-of-00002.tfrecord"
    shard.write_bytes(shard.read_bytes()[:500])
    with pytest.raises(InputError, match="train-00001-of-00002.tfrecord: is 500 bytes"):
        make_dataset(out, "train", "171", 1, training=True)


def _dihedral(image):
    """The eight quarter turns and mirror images of an [n, n, C] array."""
    turns = [np.rot90(image, k, axes=(0, 1)) for k in range(4)]
    return turns + [t[:, ::-1] for t in turns]


def test_flips_and_sign_move_the_pair_together(dataset128):
    from solar_euv.augmentations import AUGMENTATIONS
    from solar_euv.dataset.pipeline import AUGMENTATIONS as PIPELINE_NAMES
    from solar_euv.training.config import AUGMENTATIONS as CONFIG_NAMES

    assert CONFIG_NAMES is PIPELINE_NAMES is AUGMENTATIONS == ("flips", "sign")
    kw = dict(split="train", passbands="171,193", batch_size=1, shuffle_seed=3,
              scaling=OTHER, shake=False)
    plain = _epoch(make_dataset(dataset128, training=True, **kw))
    augmented = _epoch(make_dataset(dataset128, training=True, augment=("flips", "sign"),
                                    **kw))
    assert len(plain) == len(augmented) == 4
    found, negated = set(), 0
    for (x0, y0), (x1, y1) in zip(plain, augmented):
        pair0, target1 = np.concatenate([x0, y0], -1)[0], y1[0]
        # The target moves by one of the eight symmetries of the square,
        # the magnetogram by the same one, possibly with its sign reversed.
        matches = [i for i, t in enumerate(_dihedral(pair0))
                   if np.array_equal(t[..., 1:], target1)
                   and (np.array_equal(t[..., :1], x1[0]) or np.array_equal(-t[..., :1], x1[0]))]
        assert len(matches) >= 1
        found.add(matches[0])
        negated += not np.array_equal(_dihedral(pair0)[matches[0]][..., :1], x1[0])
    assert len(found) > 1 or negated > 0
    # the same seed, the same choices; evaluation is never augmented
    again = _epoch(make_dataset(dataset128, training=True, augment=("flips", "sign"), **kw))
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
               for a, b in zip(augmented, again))
    evaluation = _epoch(make_dataset(dataset128, training=False, augment=("flips",), **kw))
    plain_eval = _epoch(make_dataset(dataset128, training=False, **kw))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(evaluation, plain_eval))
    with pytest.raises(SolarEUVError, match="unknown augmentation 'rot'"):
        make_dataset(dataset128, training=True, augment=("rot",), **kw)
