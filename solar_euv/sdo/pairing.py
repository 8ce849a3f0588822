"""Pair magnetograms with AIA images in time, and split observations by date.

An *observation* is one HMI magnetogram and, for each AIA passband, the image
nearest to it in time within a tolerance (6 minutes by default).  A passband
with no image that close is recorded as missing; nothing is interpolated or
borrowed from further away.  Observations are then assigned to named date
ranges (splits); the default ranges are those of Park et al. 2019, shipped as
``splits.json`` in :mod:`solar_euv.data`.

Times are UTC.  They are handled as :class:`numpy.datetime64` in milliseconds
and written as ISO-8601 strings ending in ``Z`` (``2011-01-01T00:00:00Z``).

This module uses numpy and astropy only; the kind and time of each file come
from its header (read by :mod:`solar_euv.sdo.io`), and the pairing itself
works on any objects with ``kind``, ``time`` and ``path`` attributes.

Examples
--------
>>> from solar_euv.sdo.pairing import SourceFile, pair_files, default_splits, assign_splits
>>> files = [SourceFile("hmi", "2017-07-01T00:00:00Z", "m.fits"),
...          SourceFile("171", "2017-07-01T00:00:09Z", "a.fits")]
>>> result = pair_files(files, passbands=["171", "193"])
>>> result.observations[0].missing
('193',)
>>> [name for name, obs in assign_splits(result.observations, default_splits()).splits.items() if obs]
['test']
"""
import datetime
import importlib.resources
import json
import os
import re
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np

from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.passbands import PASSBAND_NAMES, get_passband, parse_passbands

__all__ = [
    "DEFAULT_TOLERANCE",
    "HMI_KIND",
    "SourceFile",
    "Observation",
    "PairingResult",
    "DateRange",
    "SplitAssignment",
    "parse_time",
    "format_time",
    "parse_tolerance",
    "pair_files",
    "default_splits",
    "load_splits",
    "parse_splits",
    "assign_splits",
]

HMI_KIND = "hmi"
"""The ``kind`` of a line-of-sight magnetogram (AIA files use the passband name)."""

DEFAULT_TOLERANCE = 6 * u.min
"""Largest time difference between a magnetogram and the AIA image paired with it."""

SPLITS_RESOURCE = "splits.json"

_TIME_PATTERN = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?)?)?Z?$")
_SPLIT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


# -- times --------------------------------------------------------------------

def _datetime64(value):
    """``value`` as numpy datetime64 at its own resolution (raises ValueError)."""
    if isinstance(value, np.datetime64):
        return value
    if hasattr(value, "utc") and hasattr(value, "isot"):  # astropy Time
        return np.datetime64(value.utc.isot)
    if hasattr(value, "isoformat"):  # datetime.datetime
        if getattr(value, "tzinfo", None) is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return np.datetime64(value.isoformat())
    text = str(value).strip()
    if not _TIME_PATTERN.match(text):
        raise ValueError(text)
    return np.datetime64(text.rstrip("Z").replace(" ", "T"))


def parse_time(value):
    """A UTC time as :class:`numpy.datetime64` in milliseconds.

    Parameters
    ----------
    value : str, numpy.datetime64, datetime.datetime or astropy.time.Time
        ISO-8601 text (``2011-01-01T00:00:09Z``, ``2011-01-01 00:00:09.5``,
        ``2011-01-01``, ``2011-01``, ``2011``), read as UTC.

    Raises
    ------
    SolarEUVError
        If the text is not an ISO-8601 date or time.
    """
    try:
        return _datetime64(value).astype("datetime64[ms]")
    except ValueError:
        message = (f"{str(value)!r} is not an ISO-8601 UTC time "
                   "(expected e.g. 2011-01-01T00:00:09Z or 2011-01-01)")
        raise SolarEUVError(message) from None


def format_time(value):
    """ISO-8601 UTC text of a time: ``2011-01-01T00:00:09Z`` (milliseconds kept if any)."""
    t = parse_time(value)
    unit = "s" if (t - t.astype("datetime64[s]")) == np.timedelta64(0, "ms") else "ms"
    return np.datetime_as_string(t, unit=unit) + "Z"


def parse_tolerance(value):
    """The pairing tolerance as an astropy time Quantity.

    Parameters
    ----------
    value : str or astropy.units.Quantity
        A duration with its unit: ``"6min"``, ``"360 s"``, ``"0.1h"``.

    Raises
    ------
    SolarEUVError
        If the value has no time unit or is negative.
    """
    try:
        q = value if isinstance(value, u.Quantity) else u.Quantity(str(value).strip())
        seconds = q.to_value(u.s)
    except (TypeError, ValueError, u.UnitsError):
        message = (f"tolerance {value!r} is not a duration with a unit "
                   "(for example 6min, 360s or 0.1h)")
        raise SolarEUVError(message) from None
    if not np.isfinite(seconds) or seconds < 0:
        raise SolarEUVError(f"tolerance {value!r} must be a non-negative duration")
    return q.to(u.min)


def _milliseconds(tolerance):
    return np.timedelta64(int(round(parse_tolerance(tolerance).to_value(u.ms))), "ms")


# -- pairing ------------------------------------------------------------------

@dataclass(frozen=True)
class SourceFile:
    """What the pairing needs to know about one file.

    Attributes
    ----------
    kind : str
        ``"hmi"`` for a magnetogram, the passband name (``"171"``) for AIA.
    time : str
        Observation time, UTC ISO-8601.
    path : str
        The file.
    """

    kind: str
    time: str
    path: str

    @classmethod
    def of(cls, item):
        """A SourceFile from any object with ``kind``, ``time`` and ``path``."""
        kind = str(item.kind).strip()
        kind = HMI_KIND if kind.lower() == HMI_KIND else get_passband(kind).name
        return cls(kind, format_time(item.time), os.fspath(item.path))


@dataclass
class Observation:
    """One magnetogram and the AIA images paired with it.

    Attributes
    ----------
    time : str
        Time of the magnetogram (UTC ISO-8601); the observation's time.
    sources : dict
        Channel name (``"hmi"``, ``"171"``, ...) -> file, for the channels found.
    times : dict
        Channel name -> observation time of that file.
    missing : tuple of str
        Requested passbands without an image within the tolerance.
    """

    time: str
    sources: dict
    times: dict
    missing: tuple = ()

    @property
    def passbands(self):
        """Passbands present, in table order."""
        return tuple(p for p in PASSBAND_NAMES if p in self.sources)

    def to_dict(self):
        return {"time": self.time, "sources": dict(self.sources),
                "times": dict(self.times), "missing": list(self.missing)}


@dataclass
class PairingResult:
    """Outcome of :func:`pair_files`.

    Attributes
    ----------
    observations : list of Observation
        One per magnetogram, in time order.
    unused : list of SourceFile
        AIA files not nearest to any magnetogram within the tolerance, files
        of passbands not asked for, and second magnetograms at the same time.
    passbands : tuple of str
        The passbands that were paired.
    tolerance : astropy.units.Quantity
        The tolerance used.
    """

    observations: list
    unused: list
    passbands: tuple
    tolerance: u.Quantity

    def missing_counts(self):
        """Passband -> number of observations lacking it."""
        return {p: sum(p in o.missing for o in self.observations) for p in self.passbands}


def pair_files(files, passbands=None, tolerance=DEFAULT_TOLERANCE):
    """Pair each magnetogram with the nearest image of each AIA passband.

    Parameters
    ----------
    files : iterable
        Objects with ``kind`` (``"hmi"`` or a passband name), ``time`` (UTC)
        and ``path`` attributes: :class:`SourceFile`, or the prepared images
        of :mod:`solar_euv.sdo.prep`.
    passbands : iterable of str, optional
        Passbands to pair (default all nine).
    tolerance : str or astropy.units.Quantity
        Largest ``|t_AIA - t_HMI|`` accepted (default 6 minutes).  Of two
        images equally near, the earlier is taken.  An AIA image may serve two
        magnetograms closer together than twice the tolerance.

    Returns
    -------
    PairingResult
    """
    chosen = PASSBAND_NAMES if passbands is None else parse_passbands(passbands)
    tol = _milliseconds(tolerance)
    files = sorted((SourceFile.of(f) for f in files), key=lambda f: (f.time, f.kind, f.path))

    magnetograms, unused, seen = [], [], set()
    by_passband = {p: [] for p in chosen}
    for f in files:
        if f.kind == HMI_KIND:
            if f.time in seen:
                unused.append(f)  # a second magnetogram at the same time
            else:
                seen.add(f.time)
                magnetograms.append(f)
        elif f.kind in by_passband:
            by_passband[f.kind].append(f)
        else:
            unused.append(f)

    stamps = {p: np.array([parse_time(f.time) for f in by_passband[p]], dtype="datetime64[ms]")
              for p in chosen}
    used = set()
    observations = []
    for m in magnetograms:
        t = parse_time(m.time)
        sources, times, missing = {HMI_KIND: m.path}, {HMI_KIND: m.time}, []
        for p in chosen:
            best = _nearest(by_passband[p], stamps[p], t, tol)
            if best is None:
                missing.append(p)
            else:
                sources[p], times[p] = best.path, best.time
                used.add(best)
        observations.append(Observation(m.time, sources, times, tuple(missing)))
    for p in chosen:
        unused.extend(f for f in by_passband[p] if f not in used)
    unused.sort(key=lambda f: (f.time, f.kind, f.path))
    return PairingResult(observations, unused, tuple(chosen), parse_tolerance(tolerance))


def _nearest(candidates, times, t, tol):
    """The candidate nearest to ``t`` within ``tol`` (``times``: their sorted times), or None."""
    i = int(np.searchsorted(times, t))
    best, best_dt = None, None
    for j in (i - 1, i):  # the neighbours on either side; earlier wins a tie
        if 0 <= j < len(candidates):
            dt = abs(times[j] - t)
            if dt <= tol and (best_dt is None or dt < best_dt):
                best, best_dt = candidates[j], dt
    return best


# -- splits -------------------------------------------------------------------

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
                bounds.append(_datetime64(text))
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
