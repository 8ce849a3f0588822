"""JSOC record sets of HMI, MDI and AIA, and the choice of one record per grid step.

For every step of a time grid (``start`` to ``end`` every ``cadence``, UTC)
and every channel, the record nearest in time (``T_OBS``) within a tolerance
and not flagged unusable by its ``QUALITY`` word (see
:func:`solar_euv.sdo.quality.quality_problems`) is selected:

* HMI: ``hmi.M_720s`` (segment ``magnetogram``);
* SOHO/MDI (channel ``"mdi"``, 1996-2011): ``mdi.fd_M_96m_lev182`` (segment
  ``data``), one magnetogram every 96 minutes, so a tolerance of up to 48
  minutes finds one for every step; its ``QUALITY`` word is not judged;
* AIA EUV (94, 131, 171, 193, 211, 304, 335 A): ``aia.lev1_euv_12s``
  (segment ``image``);
* AIA UV (1600, 1700 A): ``aia.lev1_uv_24s`` (segment ``image``).

Record sets: one per channel on the grid (``series[start/span@cadence]``,
JSOC's slotted sampling, times in TAI as JSOC writes them), a window of
``+-tolerance`` around a step whose grid record is missing or unusable, and
exports by record number (``series[:#recnum,...]{segment}``).  Nothing here
contacts the network; :mod:`solar_euv.sdo.fetch` sends the queries.
"""
import re
from dataclasses import dataclass

import astropy.units as u
import numpy as np

from solar_euv.exceptions import SolarEUVError
from solar_euv.passbands import get_passband
from solar_euv.sdo.times import parse_cadence, parse_time_input

__all__ = [
    "HMI_SERIES",
    "MDI_SERIES",
    "MAGNETOGRAM_SERIES",
    "AIA_EUV_SERIES",
    "AIA_UV_SERIES",
    "QUERY_KEYS",
    "Record",
    "time_grid",
    "jsoc_time",
    "magnetogram_series",
    "series_for",
    "segment_for",
    "grid_query",
    "window_query",
    "export_query",
    "table_rows",
    "select_nearest",
    "filename_for",
]

HMI_SERIES = "hmi.M_720s"
MDI_SERIES = "mdi.fd_M_96m_lev182"
MAGNETOGRAM_SERIES = {"hmi": (HMI_SERIES, "magnetogram"), "mdi": (MDI_SERIES, "data")}
"""Magnetogram channel -> (JSOC series, image segment)."""
AIA_EUV_SERIES = "aia.lev1_euv_12s"
AIA_UV_SERIES = "aia.lev1_uv_24s"
QUERY_KEYS = ("T_REC", "T_OBS", "WAVELNTH", "QUALITY", "*recnum*")
"""Keywords asked for in every query (``*recnum*`` identifies a record for export)."""


def time_grid(start, end, cadence="6h"):
    """UTC times ``start, start + cadence, ...`` up to and including ``end``.

    Returns
    -------
    list of astropy.time.Time
    """
    t0, t1 = parse_time_input(start, "start"), parse_time_input(end, "end")
    if t1 < t0:
        raise SolarEUVError(f"end {t1.isot} is before start {t0.isot}")
    step = parse_cadence(cadence).total_seconds()
    n = int(np.floor((t1 - t0).to_value(u.s) / step + 1e-9)) + 1
    return [t0 + (k * step) * u.s for k in range(n)]


def jsoc_time(t):
    """JSOC's TAI time string of a time: ``2017.01.01_00:00:37_TAI``."""
    tai = parse_time_input(t).tai
    return tai.strftime("%Y.%m.%d_%H:%M:%S") + "_TAI"


def _duration(seconds):
    return f"{int(round(seconds))}s"


# -- record sets ---------------------------------------------------------------------

def magnetogram_series(channel):
    """``(series, segment)`` of a magnetogram channel (``"hmi"``, ``"mdi"``), else None."""
    return MAGNETOGRAM_SERIES.get(str(channel).lower())


def series_for(channel):
    """JSOC series of a channel: ``"hmi"``, ``"mdi"`` or an AIA passband name."""
    if magnetogram_series(channel):
        return magnetogram_series(channel)[0]
    name = get_passband(channel).name
    return AIA_UV_SERIES if name in ("1600", "1700") else AIA_EUV_SERIES


def segment_for(channel):
    """The image segment of a channel's series (``magnetogram``, ``data`` or ``image``)."""
    return magnetogram_series(channel)[1] if magnetogram_series(channel) else "image"


def _wavelength_filter(channel):
    return "" if magnetogram_series(channel) else f"[{get_passband(channel).name}]"


def grid_query(channel, start, end, cadence="6h"):
    """Record set sampling the series on the grid: ``series[t0/span@cadence][wl]``.

    Examples
    --------
    >>> grid_query("171", "2017-01-01", "2017-01-02", "6h")
    'aia.lev1_euv_12s[2017.01.01_00:00:37_TAI/86401s@21600s][171]'
    """
    grid = time_grid(start, end, cadence)
    span = (grid[-1] - grid[0]).to_value(u.s) + 1.0
    step = parse_cadence(cadence).total_seconds()
    return (f"{series_for(channel)}[{jsoc_time(grid[0])}/{_duration(span)}"
            f"@{_duration(step)}]{_wavelength_filter(channel)}")


def window_query(channel, t, tolerance="6min"):
    """Record set of every record within ``+-tolerance`` of ``t``.

    Examples
    --------
    >>> window_query("hmi", "2017-01-01T06:00:00", "6min")
    'hmi.M_720s[2017.01.01_05:54:37_TAI/720s]'
    """
    tol = parse_cadence(tolerance).total_seconds()
    begin = parse_time_input(t) - tol * u.s
    return (f"{series_for(channel)}[{jsoc_time(begin)}/{_duration(2 * tol)}]"
            f"{_wavelength_filter(channel)}")


def export_query(channel, recnums):
    """Record set of records by number, with the image segment.

    Examples
    --------
    >>> export_query("304", [1200, 1201])
    'aia.lev1_euv_12s[:#1200,#1201]{image}'
    """
    numbers = ",".join(f"#{int(r)}" for r in recnums)
    return f"{series_for(channel)}[:{numbers}]{{{segment_for(channel)}}}"


# -- choosing records ----------------------------------------------------------------

@dataclass(frozen=True)
class Record:
    """One JSOC record chosen for a grid step.

    Attributes
    ----------
    channel : str
        ``"hmi"`` or the AIA passband name.
    step : str
        The grid time it serves (UTC ISO-8601 with ``Z``).
    t_rec : str
        JSOC's ``T_REC`` as JSOC writes it.
    t_obs : str
        Observation time, UTC ISO-8601 with ``Z``.
    recnum : int
        JSOC record number.
    quality : int
        ``QUALITY`` word.
    """

    channel: str
    step: str
    t_rec: str
    t_obs: str
    recnum: int
    quality: int

    @property
    def filename(self):
        return filename_for(self.channel, self.t_rec)

    @property
    def label(self):
        """What ``solar-euv fetch --dry-run`` prints for it."""
        return f"{series_for(self.channel)}  {self.t_obs}  recnum {self.recnum}"


def table_rows(table):
    """The rows of a query result (pandas DataFrame or iterable of mappings) as dicts."""
    if hasattr(table, "to_dict"):
        return table.to_dict("records")
    return [dict(r) for r in table]


def _record_time(row):
    from solar_euv.sdo.io import observation_time

    value = row.get("T_OBS")
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return observation_time({"t_obs": str(value)})


def select_nearest(table, steps, channel, tolerance="6min"):
    """For each grid step, the usable record nearest in time within the tolerance.

    Parameters
    ----------
    table : pandas.DataFrame or iterable of dict
        Query result with at least ``T_REC``, ``T_OBS``, ``QUALITY`` and
        ``*recnum*`` (as :meth:`drms.Client.query` returns for
        :data:`QUERY_KEYS`).
    steps : iterable of time-like
        Grid times (UTC).
    channel : str
        ``"hmi"``, ``"mdi"`` or the AIA passband name (decides which QUALITY
        bits are fatal; none for MDI, whose QUALITY word is not judged).
    tolerance : str, timedelta or Quantity
        Largest allowed ``|T_OBS - step|``.

    Returns
    -------
    dict
        Grid time (UTC ISO-8601 with ``Z``) -> :class:`Record`, or None when no
        usable record lies within the tolerance.  Records with a fatal
        QUALITY bit, no ``T_OBS`` or no record number are never chosen.
    """
    from solar_euv.sdo.quality import quality_problems

    kind = str(channel).lower() if magnetogram_series(channel) else get_passband(channel).name
    tol = parse_cadence(tolerance).total_seconds()
    candidates = []
    for row in table_rows(table):
        t_obs = _record_time(row)
        recnum = row.get("*recnum*")
        if t_obs is None or recnum is None or (isinstance(recnum, float) and np.isnan(recnum)):
            continue
        quality = row.get("QUALITY", 0)
        quality = 0 if quality is None or (isinstance(quality, float) and np.isnan(quality)) \
            else int(quality)
        if kind != "mdi" and quality_problems(quality, kind)[0]:
            continue
        candidates.append((t_obs, str(row.get("T_REC", "")), int(recnum), quality))
    chosen = {}
    for step in steps:
        t = parse_time_input(step)
        key = t.isot + "Z"
        best = None
        for t_obs, t_rec, recnum, quality in candidates:
            gap = abs((t_obs - t).to_value(u.s))
            if gap <= tol + 1e-6 and (best is None or gap < best[0]):
                best = (gap, Record(kind, key, t_rec, t_obs.isot + "Z", recnum, quality))
        chosen[key] = best[1] if best else None
    return chosen


def filename_for(channel, t_rec):
    """File name of a record, in the style of JSOC's exports.

    ``hmi.M_720s.20170101_000000_TAI.magnetogram.fits``,
    ``mdi.fd_M_96m_lev182.20101015_191200_TAI.data.fits`` and
    ``aia.lev1_euv_12s.2017-01-01T000009Z.171.image_lev1.fits``.
    """
    text = str(t_rec).strip()
    if magnetogram_series(channel):
        series, segment = magnetogram_series(channel)
        stamp = re.sub(r"[^0-9_A-Z]", "", text.replace(".", "").replace(":", ""))
        return f"{series}.{stamp}.{segment}.fits"
    stamp = re.sub(r"[^0-9TZ\-]", "", text.replace(":", ""))
    name = get_passband(channel).name
    return f"{series_for(name)}.{stamp}.{name}.image_lev1.fits"
