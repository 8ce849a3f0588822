"""The TFRecord schema of prepared SDO observations, the shard writer and the manifest.

Record schema (version 1)
-------------------------
One ``tf.train.Example`` per observation time (one magnetogram and the AIA
images paired with it).  ``<ch>`` is ``hmi`` or a passband name (``1700``,
``1600``, ``304``, ``171``, ``193``, ``211``, ``335``, ``94``, ``131``); every
channel of :data:`CHANNELS` has all four of its keys, whether present or not.

==================  ======  ===============================================
key                 type    content
==================  ======  ===============================================
``schema_version``  int64   1
``time``            bytes   magnetogram time, UTC ISO-8601 (``...Z``)
``size``            int64   grid side N (pixels)
``radius``          float   solar radius on the grid, ``392 N / 1024`` px
``<ch>/image``      bytes   N*N IEEE float16, little-endian, row-major, the
                            prepared array as given (Gauss for ``hmi``, DN/s
                            for AIA); empty when the channel is absent
``<ch>/present``    int64   1 when the channel is present, else 0
``<ch>/time``       bytes   observation time of that channel's file, or empty
``<ch>/source``     bytes   the file it was prepared from, or empty
==================  ======  ===============================================

Values are clipped to the float16 range (+-65504) before conversion, so the
storage costs 2 bytes per pixel per channel; float16 keeps 11 significant
bits (relative step 2**-11 ~ 5e-4: steps of 2 G at 3000 G, 8 DN/s at 16000
DN/s).  NaN pixels stay NaN.  Data are physical units: the network scaling
(:mod:`solar_euv.scaling`) is applied by the input pipeline, so one dataset
serves any scaling limits.

Shards are named ``<split>-<index:05d>-of-<count:05d>.tfrecord``.  Each is
written as ``<name>.partial`` and renamed once complete, so a shard file
either is whole or does not exist.

The manifest (``manifest.json``) that lists the shards is in
:mod:`solar_euv.dataset.manifest`.
"""
import os
import pathlib
import re

import numpy as np
import tensorflow as tf

from solar_euv.exceptions import SolarEUVError
from solar_euv.passbands import HMI, PASSBAND_NAMES
from solar_euv.scaling import solar_radius_px

__all__ = [
    "SCHEMA_VERSION",
    "CHANNELS",
    "PARTIAL_SUFFIX",
    "FLOAT16_MAX",
    "shard_name",
    "is_shard_name",
    "to_float16",
    "encode_example",
    "parse_examples",
    "every_channel_present",
    "decode_image",
    "ShardWriter",
]

SCHEMA_VERSION = 1
"""Version of the record schema and manifest layout written by this package."""

CHANNELS = (HMI.name,) + PASSBAND_NAMES
"""Channel names in stored order: the magnetogram, then the AIA passbands."""

PARTIAL_SUFFIX = ".partial"
FLOAT16_MAX = float(np.finfo(np.float16).max)

_SHARD_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-\d{5}-of-\d{5}\.tfrecord$")


def shard_name(split, index, count):
    """File name of shard ``index`` of ``count`` of a split."""
    return f"{split}-{index:05d}-of-{count:05d}.tfrecord"


def is_shard_name(name):
    """True for a name :func:`shard_name` could have made."""
    return bool(_SHARD_PATTERN.match(name))


def to_float16(array):
    """``array`` clipped to the float16 range and converted (NaN kept)."""
    a = np.asarray(array, dtype=np.float32)
    return np.clip(a, -FLOAT16_MAX, FLOAT16_MAX).astype("<f2")


# -- writing ------------------------------------------------------------------

def _bytes(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int(value):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


def _float(value):
    return tf.train.Feature(float_list=tf.train.FloatList(value=[float(value)]))


def encode_example(time, images, size, *, times=None, sources=None, radius=None):
    """Serialise one observation to a ``tf.train.Example`` (deterministic bytes).

    Parameters
    ----------
    time : str
        Magnetogram time, UTC ISO-8601.
    images : dict
        Channel name -> ``(size, size)`` array in physical units, for the
        channels present.  Channels must be in :data:`CHANNELS`.
    size : int
        Grid side.
    times, sources : dict, optional
        Channel name -> observation time / source file name.
    radius : float, optional
        Solar radius in pixels (default ``392 * size / 1024``).

    Returns
    -------
    bytes
    """
    times, sources = times or {}, sources or {}
    unknown = sorted(set(images) - set(CHANNELS))
    if unknown:
        raise SolarEUVError(f"unknown channel(s) {', '.join(unknown)}; "
                            f"known channels are {', '.join(CHANNELS)}")
    feature = {
        "schema_version": _int(SCHEMA_VERSION),
        "time": _bytes(str(time).encode()),
        "size": _int(size),
        "radius": _float(solar_radius_px(size) if radius is None else radius),
    }
    for ch in CHANNELS:
        image = images.get(ch)
        if image is not None and np.shape(image) != (size, size):
            raise SolarEUVError(f"channel {ch} of {time} has shape {np.shape(image)}, "
                                f"expected ({size}, {size})")
        data = b"" if image is None else to_float16(image).tobytes()
        feature[f"{ch}/image"] = _bytes(data)
        feature[f"{ch}/present"] = _int(image is not None)
        feature[f"{ch}/time"] = _bytes(str(times.get(ch, "")).encode() if image is not None else b"")
        feature[f"{ch}/source"] = _bytes(str(sources.get(ch, "")).encode()
                                         if image is not None else b"")
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString(deterministic=True)


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ShardWriter:
    """Write one shard atomically: records go to ``<path>.partial``, renamed on success.

    Use as a context manager; on an exception the partial file is removed and
    no file of the final name appears.

    Examples
    --------
    >>> with ShardWriter(out / shard_name("train", 0, 1)) as w:   # doctest: +SKIP
    ...     w.write(encode_example(t, images, 64))
    """

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.partial = self.path.with_name(self.path.name + PARTIAL_SUFFIX)
        self._writer = None
        self.count = 0

    def __enter__(self):
        self._writer = tf.io.TFRecordWriter(str(self.partial))
        return self

    def _os_error(self, err):
        # TensorFlow reports a full disk or RLIMIT_FSIZE as an OpError; the
        # command line reports an OSError as one line naming the file.
        return OSError(None, f"cannot be written ({err.message.split(';')[-1].strip()})",
                       str(self.partial))

    def write(self, record):
        try:
            self._writer.write(record)
        except tf.errors.OpError as err:
            raise self._os_error(err) from None
        self.count += 1

    def __exit__(self, exc_type, exc, tb):
        try:
            self._writer.close()
        except tf.errors.OpError as err:
            self.partial.unlink(missing_ok=True)
            if exc_type is None:
                raise self._os_error(err) from None
        if exc_type is not None:
            self.partial.unlink(missing_ok=True)
            return False
        _fsync(self.partial)
        os.replace(self.partial, self.path)
        return False



# -- reading ------------------------------------------------------------------

def parse_examples(serialized, channels, *, images=True):
    """Parse serialised examples (scalar or vector of strings) for ``channels``.

    Returns a dict with ``time``, and for each channel ``<ch>/image`` (raw
    bytes; left out with ``images=False``) and ``<ch>/present`` (int64).
    """
    spec = {"time": tf.io.FixedLenFeature([], tf.string)}
    for ch in channels:
        if images:
            spec[f"{ch}/image"] = tf.io.FixedLenFeature([], tf.string, default_value="")
        spec[f"{ch}/present"] = tf.io.FixedLenFeature([], tf.int64, default_value=0)
    if serialized.shape.rank == 0:
        return tf.io.parse_single_example(serialized, spec)
    return tf.io.parse_example(serialized, spec)


def every_channel_present(features, channels):
    """Whether each example parsed by :func:`parse_examples` holds every one of ``channels``.

    Parameters
    ----------
    features : dict
        :func:`parse_examples` of one serialised example or of a vector of them.
    channels : sequence of str

    Returns
    -------
    tf.Tensor
        bool: a scalar for one example, ``[B]`` for a vector of them.
    """
    return tf.reduce_all(tf.stack([features[f"{ch}/present"] > 0 for ch in channels]), axis=0)


def decode_image(raw, size):
    """Raw float16 bytes of one channel -> float32 ``(size, size)`` tensor."""
    values = tf.io.decode_raw(raw, tf.float16, little_endian=True)
    return tf.reshape(tf.cast(values, tf.float32), [size, size])
