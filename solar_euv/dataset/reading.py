"""A split in physical units, in stored order, with its times: what evaluation reads.

:func:`~solar_euv.dataset.make_dataset` feeds Keras in network units;
:func:`read_split` gives the same examples (those with every requested
passband) in Gauss and DN/s, reduced to a smaller grid by the same
whole-block averaging, with their observation times, for scoring generated
images against observed ones (:mod:`solar_euv.evaluate`,
:mod:`solar_euv.reference`).  :func:`split_times` lists the times alone.
"""
import pathlib

import tensorflow as tf

from solar_euv.dataset.pipeline import (_info, _split, area_downsample, count_examples,
                                        verify_shards)
from solar_euv.dataset.records import decode_image, every_channel_present, parse_examples
from solar_euv.exceptions import InputError
from solar_euv.passbands import HMI

__all__ = ["read_split", "split_times"]


def _shard_files(info, split):
    root = pathlib.Path(info["root"])
    return [str(root / s["file"]) for s in _split(info, split)["shards"]
            if s.get("examples", 1) > 0]


def read_split(data, split, passbands, image_size, batch_size=4):
    """Batches of one split in physical units, in stored order, with times.

    Parameters
    ----------
    data : str, os.PathLike or dict
        Dataset directory (or :func:`~solar_euv.dataset.dataset_info` result).
    split : str
    passbands : sequence of str
    image_size : int
        Must divide the stored grid size (whole-block averaging).
    batch_size : int

    Returns
    -------
    (tf.data.Dataset, int)
        Elements ``(time [B] string, gauss [B, n, n], observed [B, n, n, C])``
        (NaN stored pixels count as 0), and the number of examples.

    Raises
    ------
    InputError
        A missing split or passband, no usable example, a missing shard.
    """
    info = _info(data)
    root = pathlib.Path(info["root"])
    stored = [c["name"] for c in info["channels"]]
    absent = [p for p in passbands if p not in stored]
    if absent:
        raise InputError(root, f"was prepared without passband(s) {', '.join(absent)} "
                               "that the model generates")
    count = count_examples(info, split, passbands)
    if count == 0:
        raise InputError(root, f"split {split!r} has no example with passband(s) "
                               f"{', '.join(passbands)}")
    verify_shards(info, split, full=False)
    size = int(info["grid"]["size"])
    if size % image_size:
        raise InputError(root, f"has a {size} px grid, which the model's {image_size} px "
                               "grid does not divide")
    factor = size // image_size
    channels = (HMI.name,) + tuple(passbands)

    def parse(record):
        f = parse_examples(record, channels)
        raw = tuple(f[f"{c}/image"] for c in channels)
        return every_channel_present(f, channels), f["time"], raw

    def decode(present, time, raw):
        images = []
        for r in raw:
            x = decode_image(r, size)
            images.append(area_downsample(tf.where(tf.math.is_nan(x), 0.0, x), factor))
        return time, images[0], tf.stack(images[1:], axis=-1)

    ds = tf.data.TFRecordDataset(_shard_files(info, split))
    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.filter(lambda present, time, raw: present)
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(2), count


def split_times(data, split, passbands):
    """Times of the examples of a split that have every passband (reads only small features).

    Parameters
    ----------
    data, split, passbands
        As for :func:`read_split`: the dataset, the split and the passbands
        that every listed example has.

    Returns
    -------
    list of str
        In stored order.
    """
    info = _info(data)
    channels = (HMI.name,) + tuple(passbands)
    times = []
    for record in tf.data.TFRecordDataset(_shard_files(info, split)).batch(256):
        f = parse_examples(record, channels, images=False)
        ok = every_channel_present(f, channels).numpy()
        times.extend(t.decode() for t, keep in zip(f["time"].numpy(), ok) if keep)
    return times
