"""TFRecord schema, atomic shards, resumable builds, manifest checks, corrupt shards."""
import hashlib
import json

import numpy as np
import pytest
import tensorflow as tf

from solar_euv.dataset import build_dataset, dataset_info, plan_shards, verify_shards
from solar_euv.dataset.build import STATE_NAME
from solar_euv.dataset.records import (CHANNELS, SCHEMA_VERSION, ShardWriter, decode_image,
                                       encode_example, parse_examples, shard_name, to_float16)
from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.sdo.pairing import Observation

SIZE = 64


def raw_arrays(rng, channel, size=SIZE):
    """A magnetogram (Gauss, with strong and NaN pixels) or an AIA image (DN/s)."""
    if channel == "hmi":
        a = rng.normal(0.0, 600.0, (size, size))
        a[0, :4] = [3500.0, -4200.0, np.nan, 70000.0]
    else:
        a = rng.lognormal(5.0, 2.0, (size, size))
        a[0, :2] = [0.0, 1e6]
    return a.astype(np.float32)


def write_raw(root, n=6, channels=("hmi", "171", "193"), missing=None, seed=0,
              start_day=1, month="2017-07", size=SIZE):
    """``n`` observations as .npy "raw files"; ``missing``: {index: channels absent}."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    observations = []
    for i in range(n):
        time = f"{month}-{start_day + i:02d}T00:00:00Z"
        sources = {}
        for ch in channels:
            if ch in (missing or {}).get(i, ()):
                continue
            path = root / f"{ch}_{month}_{i}.npy"
            np.save(path, raw_arrays(rng, ch, size))
            sources[ch] = str(path)
        observations.append(Observation(time, sources, {c: time for c in sources}))
    return observations


def load_npy(paths):
    return (np.load(p) for p in paths)


def write_dataset(tmp_path, splits, channels=("hmi", "171", "193"), size=SIZE, **kw):
    out = tmp_path / "out"
    manifest = build_dataset(splits, out, load=load_npy, size=size, channels=channels,
                             source_root=tmp_path / "raw", progress=False, **kw)
    return out, manifest


def shard_digests(out):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.glob("*.tfrecord"))}


# -- schema ---------------------------------------------------------------------

def test_example_round_trip_within_float16():
    rng = np.random.default_rng(1)
    images = {"hmi": raw_arrays(rng, "hmi"), "171": raw_arrays(rng, "171")}
    record = encode_example("2017-07-01T00:00:00Z", images, SIZE,
                            times={"hmi": "2017-07-01T00:00:00Z", "171": "2017-07-01T00:00:09Z"},
                            sources={"hmi": "m.fits", "171": "a.fits"})
    assert record == encode_example("2017-07-01T00:00:00Z", images, SIZE,
                                    times={"hmi": "2017-07-01T00:00:00Z",
                                           "171": "2017-07-01T00:00:09Z"},
                                    sources={"hmi": "m.fits", "171": "a.fits"})
    parsed = parse_examples(tf.constant(record), CHANNELS)
    assert parsed["time"].numpy() == b"2017-07-01T00:00:00Z"
    assert [int(parsed[f"{c}/present"]) for c in CHANNELS] == [
        1 if c in images else 0 for c in CHANNELS]
    for ch, a in images.items():
        got = decode_image(parsed[f"{ch}/image"], SIZE).numpy()
        np.testing.assert_array_equal(got, to_float16(a).astype(np.float32))
        finite = np.isfinite(a) & (np.abs(a) < 65504)
        np.testing.assert_allclose(got[finite], a[finite], rtol=2 ** -11)
    hmi = decode_image(parsed["hmi/image"], SIZE).numpy()
    assert np.isnan(hmi[0, 2]) and hmi[0, 3] == 65504.0  # NaN kept, clipped to float16 max
    example = tf.train.Example.FromString(record).features.feature
    assert example["171/time"].bytes_list.value[0] == b"2017-07-01T00:00:09Z"
    assert example["193/image"].bytes_list.value[0] == b""
    assert example["radius"].float_list.value[0] == pytest.approx(392 * SIZE / 1024)
    assert example["schema_version"].int64_list.value[0] == SCHEMA_VERSION
    assert len(example["hmi/image"].bytes_list.value[0]) == 2 * SIZE * SIZE


def test_encode_refuses_wrong_shape_and_channel():
    with pytest.raises(SolarEUVError, match="channel hmi of t has shape \\(3, 3\\)"):
        encode_example("t", {"hmi": np.zeros((3, 3))}, SIZE)
    with pytest.raises(SolarEUVError, match="unknown channel\\(s\\) 4500"):
        encode_example("t", {"4500": np.zeros((SIZE, SIZE))}, SIZE)


def test_shard_writer_leaves_nothing_on_error(tmp_path):
    target = tmp_path / shard_name("train", 0, 1)
    with pytest.raises(RuntimeError):
        with ShardWriter(target) as w:
            w.write(b"x")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with ShardWriter(target) as w:
        w.write(b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["train-00000-of-00001.tfrecord"]


def test_plan_shards_round_robin_and_minimum():
    assert plan_shards(0, 10) == []
    assert plan_shards(3, 10) == [[0], [1], [2]]  # fewer examples than min_shards
    plan = plan_shards(100, 2 ** 20, shard_bytes=10 * 2 ** 20, min_shards=4)
    assert len(plan) == 10 and plan[0][:3] == [0, 10, 20]
    assert sorted(i for s in plan for i in s) == list(range(100))
    assert len(plan_shards(100, 1, shard_bytes=2 ** 20, min_shards=16)) == 16


# -- building -------------------------------------------------------------------

def test_build_writes_shards_and_manifest(tmp_path):
    train = write_raw(tmp_path / "raw", n=5, missing={2: ("193",)})
    test = write_raw(tmp_path / "raw", n=2, month="2017-08", seed=1)
    out, manifest = write_dataset(tmp_path, {"train": train, "test": test, "val": []},
                                  split_info={"train": {"start": "2017-07"}},
                                  metadata={"pairing": {"tolerance_s": 360.0}})
    assert sorted(p.name for p in out.glob("*.tfrecord")) == [
        "test-00000-of-00002.tfrecord", "test-00001-of-00002.tfrecord"] + [
        f"train-0000{k}-of-00005.tfrecord" for k in range(5)]
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["grid"] == {"size": SIZE, "radius": 24.5, "center": 31.5,
                                "orientation": manifest["grid"]["orientation"]}
    assert manifest["storage"]["dtype"] == "float16"
    assert [c["name"] for c in manifest["channels"]] == ["hmi", "171", "193"]
    assert manifest["pairing"] == {"tolerance_s": 360.0}
    tr = manifest["splits"]["train"]
    assert tr["examples"] == 5 and tr["range"] == {"start": "2017-07"}
    assert tr["missing"] == {"hmi": 0, "171": 0, "193": 1}
    assert tr["missing_combinations"] == {"193": 1, "none": 4}
    assert manifest["splits"]["val"]["examples"] == 0 and manifest["splits"]["val"]["shards"] == []
    # statistics are those of the stored float16 values
    stored = [to_float16(np.load(o.sources["171"])).astype(np.float64) for o in train]
    st = tr["statistics"]["171"]
    assert st["examples"] == 5 and st["pixels"] == 5 * SIZE * SIZE
    assert st["mean"] == pytest.approx(np.mean(stored), rel=1e-9)
    assert st["std"] == pytest.approx(np.std(stored), rel=1e-6)
    assert st["max"] == 65504.0 and tr["statistics"]["hmi"]["nan_pixels"] == 5
    assert tr["statistics"]["193"]["examples"] == 4
    # every source listed once with its checksum; shards with theirs
    assert len(manifest["sources"]) == 5 * 3 - 1 + 2 * 3
    src = manifest["sources"][0]
    assert src["sha256"] == hashlib.sha256((tmp_path / "raw" / src["file"]).read_bytes()
                                           ).hexdigest()
    for shard in tr["shards"]:
        data = (out / shard["file"]).read_bytes()
        assert shard["bytes"] == len(data)
        assert shard["sha256"] == hashlib.sha256(data).hexdigest()
    verify_shards(out)  # all consistent


def test_rerun_after_interruption_gives_identical_shards(tmp_path):
    train = write_raw(tmp_path / "raw", n=6, missing={1: ("171",)})
    out, _ = write_dataset(tmp_path, {"train": train})
    reference = shard_digests(out)
    # A run killed while writing shard 3: its partial file is left, the shard
    # itself and its state entry are absent.
    partial = out / "train-00003-of-00006.tfrecord.partial"
    (out / "train-00003-of-00006.tfrecord").rename(partial)
    partial.write_bytes(partial.read_bytes()[:100])
    lines = (out / STATE_NAME).read_text().splitlines()
    kept = [line for line in lines if "train-00003-of-00006" not in line]
    assert len(kept) == 5
    (out / STATE_NAME).write_text("\n".join(kept) + '\n{"file": "train-000')  # cut short
    (out / "manifest.json").unlink()
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.tfrecord")}

    loaded = []

    def counting_load(paths):
        loaded.extend(paths)
        return load_npy(paths)

    manifest = build_dataset({"train": train}, out, load=counting_load, size=SIZE,
                             channels=("hmi", "171", "193"), source_root=tmp_path / "raw",
                             progress=False)
    assert shard_digests(out) == reference
    assert not list(out.glob("*.partial"))
    # only the missing shard's three files were prepared again; the others kept
    assert sorted(loaded) == sorted(train[3].sources.values())
    assert all(out.joinpath(n).stat().st_mtime_ns == t for n, t in mtimes.items())
    assert manifest["splits"]["train"]["examples"] == 6


def test_rerun_with_other_inputs_rewrites_and_removes_stale_shards(tmp_path):
    train = write_raw(tmp_path / "raw", n=4)
    out, _ = write_dataset(tmp_path, {"train": train})
    more = train + write_raw(tmp_path / "raw", n=1, month="2017-09")
    write_dataset(tmp_path, {"train": more})
    assert sorted(p.name for p in out.glob("*.tfrecord")) == [
        f"train-0000{k}-of-00005.tfrecord" for k in range(5)]
    fresh_out = tmp_path / "fresh"
    build_dataset({"train": more}, fresh_out, load=load_npy, size=SIZE,
                  channels=("hmi", "171", "193"), source_root=tmp_path / "raw", progress=False)
    assert shard_digests(out) == shard_digests(fresh_out)


def test_loader_with_wrong_shape_names_the_file(tmp_path):
    train = write_raw(tmp_path / "raw", n=1)
    with pytest.raises(InputError, match="hmi_2017-07_0.npy: was prepared to shape "
                                         "\\(32, 32\\), not \\(64, 64\\)"):
        build_dataset({"train": train}, tmp_path / "out", size=SIZE, progress=False,
                      load=lambda paths: (np.zeros((32, 32)) for _ in paths))
    assert not list((tmp_path / "out").glob("*.tfrecord*"))


# -- reading the manifest and shards back ---------------------------------------

@pytest.fixture
def small_dataset(tmp_path):
    train = write_raw(tmp_path / "raw", n=3)
    out, _ = write_dataset(tmp_path, {"train": train})
    return out


def test_manifest_missing(tmp_path):
    with pytest.raises(InputError, match=f"{tmp_path}: has no manifest.json"):
        dataset_info(tmp_path)


def test_manifest_malformed(small_dataset):
    path = small_dataset / "manifest.json"
    path.write_text('{"schema_version": 1, "grid": ')
    with pytest.raises(InputError, match="manifest.json: is not valid JSON"):
        dataset_info(small_dataset)
    path.write_text('{"schema_version": 1, "grid": {}}')
    with pytest.raises(InputError, match="manifest.json: is malformed"):
        dataset_info(path)
    path.write_text('[1, 2]')
    with pytest.raises(InputError, match="is not a solar_euv dataset manifest"):
        dataset_info(path)


def test_manifest_unknown_schema(small_dataset):
    path = small_dataset / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["schema_version"] = 99
    path.write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="has schema version 99, which solar_euv .* cannot "
                                         "read \\(it reads version 1\\)"):
        dataset_info(small_dataset)


def test_truncated_shard_is_named(small_dataset):
    shard = small_dataset / "train-00001-of-00003.tfrecord"
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(InputError, match="train-00001-of-00003.tfrecord: is .* bytes but "
                                         "manifest.json records"):
        verify_shards(small_dataset, full=False)


def test_bit_flip_caught_by_crc_and_named(small_dataset):
    shard = small_dataset / "train-00002-of-00003.tfrecord"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x10
    shard.write_bytes(bytes(data))
    with pytest.raises(InputError, match="train-00002-of-00003.tfrecord: is corrupt "
                                         "\\(TFRecord checksum failed: corrupted record"):
        verify_shards(small_dataset, "train")
    # Reading it without the check still fails (TFRecord CRC), just unnamed.
    with pytest.raises(tf.errors.DataLossError):
        for _ in tf.data.TFRecordDataset(str(shard)):
            pass


def test_missing_and_replaced_shards(small_dataset):
    a = small_dataset / "train-00000-of-00003.tfrecord"
    b = small_dataset / "train-00001-of-00003.tfrecord"
    a.write_bytes(b.read_bytes())  # same length, other content
    with pytest.raises(InputError, match="train-00000-of-00003.tfrecord: does not match the "
                                         "SHA-256"):
        verify_shards(small_dataset)
    b.unlink()
    with pytest.raises(InputError, match="train-00001-of-00003.tfrecord: is listed in "
                                         "manifest.json but missing"):
        verify_shards(small_dataset, full=False)
