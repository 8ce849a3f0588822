"""Split observations by date into named ranges (train, validation, test).

Observations (:class:`solar_euv.sdo.pairing.Observation`, or anything with a
``time``) are assigned to named date ranges (splits); the default ranges are
those of Park et al. 2019, shipped as ``splits.json`` in
:mod:`solar_euv.data`.  Times are UTC, handled as :class:`numpy.datetime64`
in milliseconds (:mod:`solar_euv.sdo.times`).

Examples
--------
>>> from solar_euv.sdo.splits import default_splits
>>> [r.name for r in default_splits()]
['train', 'val', 'test']
"""
import importlib.resources
import json
import os
import re
from dataclasses import dataclass, field

import numpy as np

from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.sdo.times import format_time, parse_time, to_datetime64

__all__ = [
    "SPLITS_RESOURCE",
    "DateRange",
    "SplitAssignment",
    "default_splits",
    "load_splits",
    "parse_splits",
    "assign_splits",
]

SPLITS_RESOURCE = "splits.json"
"""File name of the default splits in :mod:`solar_euv.data`."""

_SPLIT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class DateRange:
    """A named split: observations from ``start`` (inclusive) to ``stop`` (exclusive).

    Attributes
    ----------
    name : str
        Split name, used in shard file names (``train``).
    start, end : str
        The range as written; ``end`` is inclusive at its own resolution
        (``2016-12-31`` includes that whole day, ``2017-06`` all of June).
    """

    name: str
    start: str
    end: str
    _start: np.datetime64 = field(repr=False, compare=False, default=None)
    _stop: np.datetime64 = field(repr=False, compare=False, default=None)

    @classmethod
    def parse(cls, name, start, end):
        """Check and build a range; raises SolarEUVError on a bad name or dates."""
        name = str(name).strip()
        if not _SPLIT_NAME.match(name):
            raise SolarEUVError(
                f"split name {name!r} must start with a letter and contain only "
                "letters, digits and underscores")
        bounds = []
        for text in (str(start).strip(), str(end).strip()):
            try:
                bounds.append(to_datetime64(text))
            except ValueError:
                raise SolarEUVError(f"split {name!r}: {text!r} is not a date (use YYYY, "
                                    "YYYY-MM, YYYY-MM-DD or an ISO time)") from None
        t0, t1 = bounds
        stop = (t1 + np.timedelta64(1, np.datetime_data(t1.dtype)[0])).astype("datetime64[ms]")
        t0 = t0.astype("datetime64[ms]")
        if stop <= t0:
            raise SolarEUVError(f"split {name!r} ends ({end}) before it starts ({start})")
        return cls(name, str(start).strip(), str(end).strip(), t0, stop)

    def __contains__(self, time):
        return self._start <= parse_time(time) < self._stop

    def to_dict(self):
        """``{"start", "end"}`` as written plus the exact UTC interval ``[from, until)``."""
        return {"start": self.start, "end": self.end,
                "from": format_time(self._start), "until": format_time(self._stop)}


def _check_ranges(ranges):
    if not ranges:
        raise SolarEUVError("no split given; write e.g. train=2011-01-01:2016-12-31")
    names = [r.name for r in ranges]
    for name in names:
        if names.count(name) > 1:
            raise SolarEUVError(f"split {name!r} is given more than once")
    ordered = sorted(ranges, key=lambda r: r._start)
    for a, b in zip(ordered, ordered[1:]):
        if b._start < a._stop:
            raise SolarEUVError(
                f"splits {a.name!r} ({a.start}..{a.end}) and {b.name!r} "
                f"({b.start}..{b.end}) overlap; every observation must belong to one split")
    return tuple(ranges)


def load_splits(path=None):
    """Split ranges from a JSON file (default: the paper's, shipped in solar_euv.data).

    The file holds ``{"splits": {"train": {"start": "2011-01-01", "end":
    "2016-12-31"}, ...}}``.

    Raises
    ------
    InputError
        If the file cannot be read or does not hold split ranges.
    """
    if path is None:
        resource = importlib.resources.files("solar_euv.data") / SPLITS_RESOURCE
        text, where = resource.read_text(encoding="utf-8"), str(resource)
    else:
        where = os.fspath(path)
        try:
            with open(where, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as err:
            raise InputError(where, f"cannot be read ({err.strerror})") from None
    try:
        spec = json.loads(text)["splits"]
        items = [(name, r["start"], r["end"]) for name, r in spec.items()]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InputError(where, 'is not a split definition (expected {"splits": '
                                '{"train": {"start": ..., "end": ...}, ...}})') from None
    try:
        return _check_ranges([DateRange.parse(*item) for item in items])
    except SolarEUVError as err:
        raise InputError(where, str(err)) from None


def default_splits():
    """The paper's splits: train 2011-2016, validation 2017-01..06, test 2017-07..12."""
    return load_splits(None)


def parse_splits(spec):
    """Split ranges from command-line text.

    Parameters
    ----------
    spec : str or None
        ``name=START:END`` items separated by commas
        (``train=2011-01-01:2016-12-31,validation=2017-01:2017-06``; use
        ``START..END`` when the dates contain times), the path of a JSON file
        as read by :func:`load_splits`, or None / ``"paper"`` for the default.

    Returns
    -------
    tuple of DateRange

    Raises
    ------
    SolarEUVError
        On a malformed item, a range that ends before it starts, a repeated
        name, or overlapping ranges.
    """
    if spec is None or str(spec).strip().lower() in ("", "paper", "default"):
        return default_splits()
    text = str(spec).strip()
    if text.endswith(".json") or os.path.isfile(text):
        return load_splits(text)
    ranges = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, dates = item.partition("=")
        if ".." in dates:
            start, _, end = dates.partition("..")
        elif dates.count(":") == 1:
            start, _, end = dates.partition(":")
        else:
            start = end = None
        if not sep or not start or not end:
            raise SolarEUVError(
                f"split {item!r} is not NAME=START:END (for example "
                "train=2011-01-01:2016-12-31, or START..END when the dates have times)")
        ranges.append(DateRange.parse(name, start, end))
    return _check_ranges(ranges)


@dataclass
class SplitAssignment:
    """Observations grouped by split.

    Attributes
    ----------
    splits : dict
        Split name -> list of observations in time order (every split named,
        even when empty).
    outside : list
        Observations in no split.
    ranges : tuple of DateRange
    """

    splits: dict
    outside: list
    ranges: tuple


def assign_splits(observations, splits):
    """Put each observation in the split whose date range contains its time."""
    ranges = _check_ranges(tuple(splits))
    grouped, outside = {r.name: [] for r in ranges}, []
    for obs in sorted(observations, key=lambda o: parse_time(o.time)):
        home = next((r.name for r in ranges if obs.time in r), None)
        (grouped[home] if home else outside).append(obs)
    return SplitAssignment(grouped, outside, ranges)
