"""TFRecord shards -> ``(magnetogram, target)`` batches in network units for Keras.

:func:`make_dataset` reads the shards of one split written by ``solar-euv
prepare`` and yields ``(magnetogram [B, n, n, 1], target [B, n, n, C])``
float32 pairs, in the network units of :mod:`solar_euv.scaling` (its
methods, computed by TensorFlow):

1. shard files (shuffled with the seed when training), interleaved and read
   in parallel; with ``repeat`` the file list is repeated;
2. each record parsed for the magnetogram and the requested passbands;
   examples lacking any requested passband are skipped (the manifest says
   how many: ``missing_combinations``);
3. shuffled with the seed when training (a buffer of about 256 MiB);
4. decoded from float16 channel by channel, optionally reduced to
   ``image_size`` by area averaging over whole ``f x f`` blocks in physical
   units (NaN counted as 0; the disk stays exactly centred with radius
   ``392 n / 1024``), scaled to [-1, 1] (NaN as :class:`Scaling` treats it),
   off-disk pixels beyond ``mask_radius * R`` set to -1 (when masking);
5. when training, the paper's "shake": both images are padded by ``p = n/64
   - 1`` pixels with *reflect* padding and cropped back to ``n x n`` at one
   random offset, the same for input and target.  The offset comes from a
   stateless random op whose seed is a per-file-opening number drawn from
   ``tf.data.Dataset.random(shuffle_seed)`` in file-list order and the
   record's index in its file: the same seed gives the same augmentation,
   every pass over the data gives new offsets, and it stays deterministic
   under ``tf.distribute``;
6. batched (the remainder dropped when training), prefetched.

Options set auto-sharding to ``FILE`` so each worker of a multi-worker run
reads its own shards (``prepare`` writes at least 16 shards per split).
"""
import pathlib

import tensorflow as tf

from solar_euv.augmentations import AUGMENTATIONS
from solar_euv.dataset.manifest import dataset_info, file_sha256
from solar_euv.dataset.records import decode_image, every_channel_present, parse_examples
from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.passbands import HMI, parse_passbands
from solar_euv.scaling import DEFAULT_SCALING, Scaling

__all__ = [
    "count_examples",
    "verify_shards",
    "make_dataset",
    "area_downsample",
    "shake_images",
    "shake_padding",
    "AUGMENTATIONS",
    "augment_images",
]

SHUFFLE_BUFFER_BYTES = 256 * 2 ** 20
_VERIFY_MODES = ("none", "size", "full")


# -- splits and shards named by the manifest -----------------------------------

def _info(path_or_manifest):
    if isinstance(path_or_manifest, dict):
        if "root" not in path_or_manifest:
            raise SolarEUVError("a manifest given as a dict needs its 'root' directory; "
                                "get it from dataset_info(path)")
        return path_or_manifest
    return dataset_info(path_or_manifest)


def _split(info, split):
    splits = info["splits"]
    if split not in splits:
        known = ", ".join(repr(s) for s in splits) or "none"
        raise InputError(info["root"], f"has no split {split!r} (its splits: {known})")
    return splits[split]


def count_examples(path_or_manifest, split, passbands):
    """Number of examples of ``split`` that have every passband in ``passbands``."""
    info = _info(path_or_manifest)
    wanted = set(parse_passbands(_as_list(passbands)))
    entry = _split(info, split)
    combos = entry.get("missing_combinations") or {}
    return sum(n for combo, n in combos.items()
               if combo == "none" or not wanted & set(combo.split(",")))


def _as_list(passbands):
    return [passbands] if isinstance(passbands, (str, int)) else list(passbands)


def verify_shards(path_or_manifest, split=None, full=True):
    """Check the shards of one split (or all) against the manifest.

    With ``full=False`` only presence and byte length are checked; with
    ``full=True`` every record is read through TensorFlow's TFRecord reader
    (its CRC-32C checks catch flipped bits and truncation) and each file's
    SHA-256 is compared with the manifest.

    Raises
    ------
    InputError
        Naming the first missing, truncated, corrupt or replaced shard.
    """
    info = _info(path_or_manifest)
    names = [split] if split is not None else list(info["splits"])
    for name in names:
        for shard in _split(info, name).get("shards", []):
            _verify_shard(pathlib.Path(info["root"]) / shard["file"], shard, full)


def _verify_shard(path, shard, full):
    if not path.is_file():
        raise InputError(path, "is listed in manifest.json but missing; run "
                               "`solar-euv prepare` again to rewrite it")
    size = path.stat().st_size
    if size != shard.get("bytes", size):
        raise InputError(path, f"is {size} bytes but manifest.json records {shard['bytes']}: "
                               "it is truncated or was replaced; run `solar-euv prepare` again")
    if not full:
        return
    try:
        records = sum(1 for _ in tf.data.TFRecordDataset(str(path)))
    except tf.errors.DataLossError as err:
        detail = err.message.split("[Op:")[0].split("}}")[-1].strip()
        raise InputError(path, f"is corrupt (TFRecord checksum failed: {detail}); "
                               "delete it and run `solar-euv prepare` again") from None
    if records != shard.get("examples", records):
        raise InputError(path, f"holds {records} records, manifest.json says "
                               f"{shard['examples']}")
    if "sha256" in shard and file_sha256(path) != shard["sha256"]:
        raise InputError(path, "does not match the SHA-256 recorded in manifest.json "
                               "(it comes from another prepare run)")


# -- image operations in TensorFlow ---------------------------------------------

def area_downsample(image, factor):
    """Mean over ``factor x factor`` blocks of ``[n, n]`` or ``[n, n, C]`` (exact disk geometry)."""
    if factor == 1:
        return image
    channels = image.shape.rank == 3
    x = image[None] if channels else image[None, :, :, None]
    pooled = tf.nn.avg_pool2d(x, factor, factor, "VALID")
    return pooled[0] if channels else pooled[0, :, :, 0]


def shake_padding(image_size):
    """The paper's shake amplitude ``p = n / 64 - 1`` (15 px at 1024, 3 at 256)."""
    return max(int(image_size) // 64 - 1, 0)


def shake_images(images, seed, padding):
    """Reflect-pad by ``padding`` and crop ``n x n`` back at one random offset.

    Parameters
    ----------
    images : tf.Tensor or sequence of tf.Tensor
        One ``[n, n, C]`` tensor, or several ``[n, n]`` channels; all move
        together.
    seed : tf.Tensor
        Shape-[2] integer seed (stateless: the same seed, the same offset).
    padding : int
        ``p``; the offset is uniform in ``0..2p`` on each axis.

    Returns
    -------
    The shifted images, in the form given.
    """
    if padding <= 0:
        return images
    offset = tf.random.stateless_uniform([2], seed, minval=0, maxval=2 * padding + 1,
                                         dtype=tf.int32)

    def move(image):
        extra = [[0, 0]] * (image.shape.rank - 2)
        padded = tf.pad(image, [[padding, padding], [padding, padding]] + extra,
                        mode="REFLECT")
        begin = tf.concat([offset, tf.zeros([image.shape.rank - 2], tf.int32)], 0)
        return tf.slice(padded, begin, tf.shape(image))

    if isinstance(images, (list, tuple)):
        return type(images)(move(image) for image in images)
    return move(images)


def augment_images(images, seed, *, flips=True, sign=True):
    """Apply ``flips`` and/or ``sign`` to one training pair.

    Parameters
    ----------
    images : list of tf.Tensor
        ``[n, n]`` channels in physical units (before scaling and masking),
        the magnetogram in Gauss first.
    seed : tf.Tensor
        Shape-[2] integer seed (stateless: the same seed, the same choice;
        independent of the shake's offset for the same seed).
    flips, sign : bool

    Returns
    -------
    list of tf.Tensor
    """
    draws = tf.random.stateless_uniform(
        [3], tf.random.experimental.stateless_fold_in(seed, 0x5EED), minval=0, maxval=4,
        dtype=tf.int32)
    out = list(images)
    if sign:
        magnetogram = out[0]
        out[0] = tf.cond(draws[2] % 2 == 1, lambda: -magnetogram, lambda: magnetogram)
    if flips:
        def turn(image):
            turned = tf.image.rot90(image[:, :, None], draws[0])[:, :, 0]
            turned = tf.cond(draws[1] % 2 == 1, lambda: tf.reverse(turned, [1]),
                             lambda: turned)
            return tf.ensure_shape(turned, image.shape)

        out = [turn(image) for image in out]
    return out


# -- the pipeline ---------------------------------------------------------------

def make_dataset(path_or_manifest, split, passbands, batch_size, training, *,
                 image_size=None, scaling=None, shake=True, shuffle_seed=0,
                 shuffle_buffer=None, repeat=None, drop_remainder=None,
                 num_parallel_reads=None, verify="size", augment=()):
    """A ``tf.data.Dataset`` of ``(magnetogram, target)`` batches for Keras.

    Parameters
    ----------
    path_or_manifest : str, os.PathLike or dict
        Dataset directory, its ``manifest.json``, or :func:`dataset_info`'s result.
    split : str
        Split name (``"train"``, ``"validation"``, ``"test"``).
    passbands : str or sequence
        Target passband(s) (``"171"``, ``["171", "193"]``, ``"all"``); the
        target has one channel per passband, in table order.
    batch_size : int
        Global batch size.
    training : bool
        Shuffle, shake and drop the last partial batch.
    image_size : int, optional
        Output side n; must divide the stored grid size (area averaging).
        Default: the stored size.
    scaling : Scaling or dict, optional
        Network-unit limits and masking (default :data:`DEFAULT_SCALING`).
    shake : bool
        Apply the shake augmentation when training (never otherwise).
    augment : sequence of str
        Further augmentations when training, from
        :data:`~solar_euv.augmentations.AUGMENTATIONS` (``"flips"``, ``"sign"``);
        none by default.
    shuffle_seed : int
        Seed of file order, record shuffling and shake offsets.
    shuffle_buffer : int, optional
        Records in the shuffle buffer (default: about 256 MiB of records).
    repeat : int, optional
        Passes over the data: None or 1 for one (Keras re-iterates it each
        epoch, with a new order and new shakes), k for k, -1 for endless.
        A finite dataset declares its number of batches (``cardinality``).
    drop_remainder : bool, optional
        Default: ``training``.
    num_parallel_reads : int, optional
        Shards read at once (default ``min(shards, 8)``).
    verify : {"size", "full", "none"}
        Check shards before reading: presence and length (default), or also
        CRC and SHA-256 of every record (:func:`verify_shards`).  A shard
        corrupted later still fails with ``tf.errors.DataLossError``.

    Returns
    -------
    tf.data.Dataset
        Elements ``(float32 [B, n, n, 1], float32 [B, n, n, C])``.

    Raises
    ------
    SolarEUVError
        Unknown schema version, missing split or passband, no example with
        the requested passbands, a size that does not divide the grid, or a
        bad shard (:class:`~solar_euv.exceptions.InputError` names it).
    """
    info = _info(path_or_manifest)
    passbands = parse_passbands(_as_list(passbands))
    root = pathlib.Path(info["root"])
    stored = [c["name"] for c in info["channels"]]
    absent = [p for p in passbands if p not in stored]
    if absent:
        raise InputError(root, f"was prepared without passband(s) {', '.join(absent)} "
                               f"(it has {', '.join(c for c in stored if c != HMI.name)})")
    entry = _split(info, split)
    available = count_examples(info, split, passbands)
    if available == 0:
        raise InputError(root, f"split {split!r} has no example with passband(s) "
                               f"{', '.join(passbands)} ({entry.get('examples', 0)} examples "
                               "in all); choose another split or prepare more data")
    if verify not in _VERIFY_MODES:
        raise SolarEUVError(f"verify must be one of {', '.join(_VERIFY_MODES)}; "
                            f"received {verify!r}")
    shards = [s for s in entry["shards"] if s.get("examples", 1) > 0]
    if verify != "none":
        for s in shards:
            _verify_shard(root / s["file"], s, verify == "full")
    files = [str(root / s["file"]) for s in shards]

    size = int(info["grid"]["size"])
    n = size if image_size is None else int(image_size)
    if n <= 0 or n > size or size % n:
        raise SolarEUVError(f"image_size {image_size} must divide the dataset's grid size "
                            f"{size} (whole-block area averaging keeps the disk exact)")
    if batch_size < 1:
        raise SolarEUVError(f"batch_size must be at least 1; received {batch_size}")
    if repeat is not None and repeat != -1 and repeat < 1:
        raise SolarEUVError(f"repeat must be a number of passes (1 or more) or -1 for "
                            f"endless; received {repeat}")
    if scaling is None:
        scaling = DEFAULT_SCALING
    elif isinstance(scaling, dict):
        scaling = Scaling.from_dict(scaling)
    shaking = bool(training and shake and shake_padding(n) > 0)
    augment = tuple(augment or ())
    unknown = [a for a in augment if a not in AUGMENTATIONS]
    if unknown:
        raise SolarEUVError(f"unknown augmentation {unknown[0]!r}; choose from "
                            + ", ".join(AUGMENTATIONS))
    augmenting = bool(training and augment)
    drop_remainder = training if drop_remainder is None else drop_remainder
    channels = (HMI.name,) + passbands
    buffer = shuffle_buffer or max(1, min(4096, SHUFFLE_BUFFER_BYTES // (2 * size * size
                                                                          * len(channels))))

    ds = tf.data.Dataset.from_tensor_slices(files)
    if training:
        ds = ds.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    if repeat is not None and repeat != 1:
        ds = ds.repeat(None if repeat < 0 else repeat)
    # One random number per file opening, drawn sequentially in file-list
    # order: deterministic, new at every pass, and FILE auto-sharding still
    # finds the file list as the source.
    noise = tf.data.Dataset.random(seed=shuffle_seed, rerandomize_each_iteration=True)
    ds = ds.map(lambda f: (f, noise.take(1).get_single_element()))

    def read(path, file_seed):
        records = tf.data.TFRecordDataset(path)
        return tf.data.Dataset.zip((records, tf.data.Dataset.from_tensors(file_seed).repeat(),
                                    tf.data.Dataset.range(1 << 62)))

    cycle = max(1, min(len(files), num_parallel_reads or 8))
    ds = ds.interleave(read, cycle_length=cycle, block_length=1,
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def parse(record, file_seed, index):
        features = parse_examples(record, channels)
        raw = tuple(features[f"{c}/image"] for c in channels)
        return (every_channel_present(features, channels), raw,
                tf.stack([file_seed, index]))

    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.filter(lambda present, raw, seed: present)
    if training:
        ds = ds.shuffle(buffer, seed=shuffle_seed, reshuffle_each_iteration=True)

    factor = size // n
    padding = shake_padding(n)

    def to_network(present, raw, seed):
        # Channel by channel as [n, n] images: much faster than [n, n, C]
        # element-wise ops with a short last axis.
        images = [decode_image(r, size) for r in raw]
        if factor > 1:
            images = [area_downsample(tf.where(tf.math.is_nan(x), 0.0, x), factor)
                      for x in images]
        if augmenting:
            images = augment_images(images, seed, flips="flips" in augment,
                                    sign="sign" in augment)
        y = [scaling.hmi_network_input(images[0], xp=tf)] + \
            [scaling.apply_mask(scaling.aia_to_network(x, xp=tf), xp=tf) for x in images[1:]]
        if shaking:
            y = shake_images(y, seed, padding)
        return y[0][:, :, None], tf.stack(y[1:], axis=-1)

    ds = ds.map(to_network, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if repeat is None or repeat >= 0:
        # Declare the length, known from the manifest, so Keras sizes its
        # epochs and progress bar (FILE auto-sharding drops this assertion).
        examples = available * (1 if repeat is None else repeat)
        batches = examples // batch_size if drop_remainder else -(-examples // batch_size)
        ds = ds.apply(tf.data.experimental.assert_cardinality(batches))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.FILE
    options.deterministic = True
    return ds.with_options(options).prefetch(tf.data.AUTOTUNE)
