"""Reading times and durations: the one time parser and the one cadence parser of the package.

* :func:`parse_time_input`: a string, datetime or :class:`~astropy.time.Time`
  as a UTC ``Time`` (fetch's grid, the synthetic Sun, sample times);
* :func:`parse_time` and :func:`format_time`: the same ISO-8601 text as
  :class:`numpy.datetime64` in milliseconds and back, for pairing many files
  at once (``2011-01-01T00:00:09Z``); :func:`to_datetime64` keeps the
  text's own resolution (``2017-06`` is a month, for date ranges);
* :func:`parse_cadence`: a step such as ``"6h"`` or ``"30min"`` as a
  :class:`datetime.timedelta` (fetch's grid and windows, sample times);
* :func:`parse_tolerance`: the pairing tolerance as an astropy Quantity in
  minutes (any astropy time unit, zero allowed).

Times are UTC; every error is a :class:`~solar_euv.exceptions.SolarEUVError`
of one sentence naming the value.
"""
import datetime
import re

import astropy.units as u
import numpy as np
from astropy.time import Time

from solar_euv.exceptions import SolarEUVError

__all__ = ["parse_time_input", "to_datetime64", "parse_time", "format_time", "parse_cadence",
           "parse_tolerance"]

_TIME_PATTERN = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?)?)?Z?$")
_CADENCE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(s|sec|m|min|h|hr|d|day)s?\s*$", re.I)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400,
                 "day": 86400}


def parse_time_input(value, what="time"):
    """Turn a string, datetime or :class:`~astropy.time.Time` into a UTC ``Time``.

    Parameters
    ----------
    value : str, datetime.datetime, numpy.datetime64 or astropy.time.Time
        Text is ISO 8601 (``2011-01-01``, ``2011-01-01T06:00``, a trailing
        ``Z`` allowed), read as UTC.
    what : str
        What the value is (``"start"``, ``"end"``), for the error message.

    Returns
    -------
    astropy.time.Time

    Raises
    ------
    SolarEUVError
        If ``value`` is not a date or time that astropy understands.
    """
    if isinstance(value, Time):
        return value.utc
    text = value.strip().rstrip("Z") if isinstance(value, str) else value
    try:
        return Time(text, scale="utc")
    except (ValueError, TypeError):
        message = (f"{what} {value!r} is not a date or time; use ISO 8601 such as "
                   "2011-01-01 or 2011-01-01T06:00")
        raise SolarEUVError(message) from None


def to_datetime64(value):
    """``value`` as :class:`numpy.datetime64` at its own resolution.

    Raises
    ------
    ValueError
        If ``value`` is not ISO-8601 text, a datetime, a datetime64 or a Time.
    """
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
        return to_datetime64(value).astype("datetime64[ms]")
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


def parse_cadence(text):
    """A cadence such as ``"6h"``, ``"30min"``, ``"720s"`` or ``"1d"`` as a timedelta.

    Parameters
    ----------
    text : str, datetime.timedelta or astropy.units.Quantity
        A number and one of the units s, sec, m, min, h, hr, d, day
        (case-insensitive, plural allowed).

    Returns
    -------
    datetime.timedelta

    Raises
    ------
    solar_euv.exceptions.SolarEUVError
        For text that is not a positive duration with one of those units.
    """
    if isinstance(text, datetime.timedelta):
        seconds = text.total_seconds()
    elif isinstance(text, u.Quantity):
        seconds = float(text.to_value(u.s))
    else:
        match = _CADENCE.match(str(text))
        if not match:
            raise SolarEUVError(f"cadence {text!r} is not a duration such as 6h, 30min, "
                                "720s or 1d")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if not seconds > 0:
        raise SolarEUVError(f"cadence {text!r} must be positive")
    return datetime.timedelta(seconds=seconds)
