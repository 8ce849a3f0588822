"""Find and download HMI or MDI magnetograms and AIA level-1 images from JSOC (drms).

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

Queries: one query per channel on the grid (``series[start/span@cadence]``,
JSOC's slotted sampling, times in TAI as JSOC writes them); steps whose
grid record is missing or unusable are looked up again in a window of
``+-tolerance`` around them.  Exports: ``method="url"``, ``protocol="fits"``
(JSOC's RICE-compressed FITS with full headers), by record number
(``series[:#recnum,...]{segment}``) in batches; JSOC requires an e-mail
address registered at http://jsoc.stanford.edu/ajax/register_email.html.

Downloads are resumable: a file whose final name exists is complete and is
skipped (on a rerun, already downloaded steps are not even exported again);
data go to ``NAME.part`` first (continued with an HTTP Range request when a
partial file is there) and are renamed when complete; each file is retried
with a growing pause.  Without a network connection, or when JSOC refuses a
query or an export, :class:`FetchError` says so in one sentence.
"""
import datetime
import os
import pathlib
import re
import socket
import time as _time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.time import Time

from solar_euv.exceptions import SolarEUVError
from solar_euv.passbands import get_passband, parse_passbands

__all__ = [
    "FetchError",
    "JSOC_URL",
    "HMI_SERIES",
    "MDI_SERIES",
    "AIA_EUV_SERIES",
    "AIA_UV_SERIES",
    "QUERY_KEYS",
    "Record",
    "FetchResult",
    "parse_cadence",
    "time_grid",
    "jsoc_time",
    "series_for",
    "segment_for",
    "grid_query",
    "window_query",
    "export_query",
    "select_nearest",
    "filename_for",
    "download",
    "fetch",
]

JSOC_URL = "http://jsoc.stanford.edu"
HMI_SERIES = "hmi.M_720s"
MDI_SERIES = "mdi.fd_M_96m_lev182"
_MAGNETOGRAM_SERIES = {"hmi": (HMI_SERIES, "magnetogram"), "mdi": (MDI_SERIES, "data")}
AIA_EUV_SERIES = "aia.lev1_euv_12s"
AIA_UV_SERIES = "aia.lev1_uv_24s"
QUERY_KEYS = ("T_REC", "T_OBS", "WAVELNTH", "QUALITY", "*recnum*")
"""Keywords asked for in every query (``*recnum*`` identifies a record for export)."""

_EXPORT_BATCH = 100
_NETWORK_ERRORS = (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError,
                   socket.gaierror)


class FetchError(SolarEUVError):
    """JSOC cannot be reached, refuses a query, or an export or download fails."""


def _offline_error(err):
    reason = getattr(err, "reason", None) or err
    return FetchError(f"cannot reach JSOC ({JSOC_URL}): {reason}; check the network "
                      "connection (fetch needs internet access; nothing was downloaded "
                      "for the failed step, and rerunning continues where it stopped)")


# -- time grid -----------------------------------------------------------------------

_CADENCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day)s?\s*$", re.I)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400,
                 "day": 86400}


def parse_cadence(text):
    """A cadence such as ``"6h"``, ``"30min"``, ``"720s"`` or ``"1d"`` as a timedelta.

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


def _utc(value, what="time"):
    try:
        if isinstance(value, Time):
            return value.utc
        text = str(value).strip().rstrip("Z")
        return Time(text, scale="utc")
    except (ValueError, TypeError):
        raise SolarEUVError(f"{what} {value!r} is not an ISO-8601 UTC time "
                            "(e.g. 2017-01-01 or 2017-01-01T06:00:00)") from None


def time_grid(start, end, cadence="6h"):
    """UTC times ``start, start + cadence, ...`` up to and including ``end``.

    Returns
    -------
    list of astropy.time.Time
    """
    t0, t1 = _utc(start, "start"), _utc(end, "end")
    if t1 < t0:
        raise SolarEUVError(f"end {t1.isot} is before start {t0.isot}")
    step = parse_cadence(cadence).total_seconds()
    n = int(np.floor((t1 - t0).to_value(u.s) / step + 1e-9)) + 1
    return [t0 + (k * step) * u.s for k in range(n)]


def jsoc_time(t):
    """JSOC's TAI time string of a time: ``2017.01.01_00:00:37_TAI``."""
    tai = _utc(t).tai
    return tai.strftime("%Y.%m.%d_%H:%M:%S") + "_TAI"


def _duration(seconds):
    return f"{int(round(seconds))}s"


# -- record sets ---------------------------------------------------------------------

def _magnetogram(channel):
    return _MAGNETOGRAM_SERIES.get(str(channel).lower())


def series_for(channel):
    """JSOC series of a channel: ``"hmi"``, ``"mdi"`` or an AIA passband name."""
    if _magnetogram(channel):
        return _magnetogram(channel)[0]
    name = get_passband(channel).name
    return AIA_UV_SERIES if name in ("1600", "1700") else AIA_EUV_SERIES


def segment_for(channel):
    """The image segment of a channel's series (``magnetogram``, ``data`` or ``image``)."""
    return _magnetogram(channel)[1] if _magnetogram(channel) else "image"


def _wavelength_filter(channel):
    return "" if _magnetogram(channel) else f"[{get_passband(channel).name}]"


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
    begin = _utc(t) - tol * u.s
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


def _rows(table):
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

    kind = str(channel).lower() if _magnetogram(channel) else get_passband(channel).name
    tol = parse_cadence(tolerance).total_seconds()
    candidates = []
    for row in _rows(table):
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
        t = _utc(step)
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
    if _magnetogram(channel):
        series, segment = _magnetogram(channel)
        stamp = re.sub(r"[^0-9_A-Z]", "", text.replace(".", "").replace(":", ""))
        return f"{series}.{stamp}.{segment}.fits"
    stamp = re.sub(r"[^0-9TZ\-]", "", text.replace(":", ""))
    name = get_passband(channel).name
    return f"{series_for(name)}.{stamp}.{name}.image_lev1.fits"


# -- downloads -----------------------------------------------------------------------

def download(url, path, *, retries=3, timeout=60, pause=5.0, opener=None):
    """Download ``url`` to ``path`` resumably; skip when ``path`` exists.

    Data go to ``path + ".part"`` (continued with an HTTP Range request if a
    partial file is there) and are renamed to ``path`` when complete (the
    length announced by the server, when given, must match).

    Parameters
    ----------
    url : str
    path : str or os.PathLike
    retries : int
        Further attempts after a failed one, pausing ``pause``, ``2 pause``, ...
    timeout : float
        Seconds to wait for the server per attempt.
    opener : callable, optional
        ``opener(request, timeout=...)`` returning a response; defaults to
        :func:`urllib.request.urlopen` (tests pass a fake).

    Returns
    -------
    bool
        True if downloaded, False if it was already there.

    Raises
    ------
    FetchError
        When every attempt failed.
    """
    path = pathlib.Path(path)
    if path.exists():
        return False
    opener = opener or urllib.request.urlopen
    part = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    last = None
    for attempt in range(int(retries) + 1):
        if attempt:
            _time.sleep(pause * attempt)
        have = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url)
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            with opener(request, timeout=timeout) as response:
                status = getattr(response, "status", 200)
                resumed = have and status == 206
                length = response.headers.get("Content-Length") if hasattr(
                    response, "headers") else None
                expected = (have if resumed else 0) + int(length) if length else None
                with open(part, "ab" if resumed else "wb") as fh:
                    while True:
                        chunk = response.read(1 << 20)
                        if not chunk:
                            break
                        fh.write(chunk)
            size = part.stat().st_size
            if expected is not None and size != expected:
                last = f"incomplete transfer ({size} of {expected} bytes)"
                continue
            os.replace(part, path)
            return True
        except urllib.error.HTTPError as err:
            last = f"HTTP {err.code} {err.reason}"
            if err.code == 416:          # range not satisfiable: start over
                part.unlink(missing_ok=True)
            elif 400 <= err.code < 500 and err.code != 429:
                break
        except _NETWORK_ERRORS as err:
            last = str(getattr(err, "reason", None) or err)
    raise FetchError(f"{path}: download from {url} failed after {int(retries) + 1} "
                     f"attempts ({last}); run fetch again to continue")


# -- orchestration -------------------------------------------------------------------

@dataclass
class FetchResult:
    """What :func:`fetch` did.

    Attributes
    ----------
    planned : list of Record
        Records chosen for the grid.
    downloaded, skipped : list of pathlib.Path
        Files written now, and files already present.
    missing : list of (str, str)
        ``(channel, grid time)`` without a usable record within the tolerance.
    """

    planned: list = field(default_factory=list)
    downloaded: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    missing: list = field(default_factory=list)


def _default_client(email):
    """A drms client; with an e-mail address, JSOC is asked whether it is registered."""
    from solar_euv.sdo import thirdparty

    drms = thirdparty.drms()
    try:
        return drms.Client(email=email)
    except ValueError:
        raise FetchError(f"JSOC does not accept the e-mail address {email!r} for exports: "
                         "register it at http://jsoc.stanford.edu/ajax/register_email.html"
                         ) from None


def _query(client, ds):
    from solar_euv.sdo import thirdparty

    drms = thirdparty.drms()
    try:
        return client.query(ds, key=",".join(QUERY_KEYS))
    except drms.DrmsQueryError as err:
        raise FetchError(f"JSOC refused the query {ds}: {err}") from None
    except _NETWORK_ERRORS as err:
        raise _offline_error(err) from None
    except OSError as err:  # e.g. http.client.RemoteDisconnected
        raise _offline_error(err) from None


def _record_key(record_name):
    """``(T_REC, wavelength)`` from an export record name such as
    ``aia.lev1_euv_12s[2017-01-01T00:00:09Z][171]``."""
    parts = re.findall(r"\[([^\]]*)\]", str(record_name))
    t_rec = parts[0] if parts else ""
    wave = parts[1] if len(parts) > 1 else ""
    return t_rec, wave


def _export(client, channel, records, email, timeout):
    from solar_euv.sdo import thirdparty

    drms = thirdparty.drms()
    ds = export_query(channel, [r.recnum for r in records])
    try:
        request = client.export(ds, method="url", protocol="fits", email=email)
        request.wait(timeout=timeout)
        if not request.has_succeeded():
            raise FetchError(f"JSOC export of {ds} did not succeed (status "
                             f"{request.status}); try again later")
        urls = request.urls
    except drms.DrmsExportError as err:
        raise FetchError(f"JSOC export of {ds} failed: {err} (the e-mail address must be "
                         "registered at http://jsoc.stanford.edu/ajax/register_email.html)"
                         ) from None
    except _NETWORK_ERRORS as err:
        raise _offline_error(err) from None
    wave = "" if _magnetogram(channel) else channel
    by_key = {(r.t_rec, wave): r for r in records}
    pairs = []
    for row in _rows(urls):
        t_rec, w = _record_key(row.get("record"))
        record = by_key.get((t_rec, w if wave else ""))
        if record is None and len(records) == 1:
            record = records[0]
        if record is not None:
            pairs.append((record, row["url"]))
    return pairs


def fetch(start, end, out_dir, *, cadence="6h", passbands="all", hmi=True, email=None,
          tolerance="6min", retries=3, retry_pause=5.0, timeout=600, dry_run=False,
          client=None, opener=None, progress=None, instrument="hmi"):
    """Download magnetograms and AIA images nearest to each grid step.

    Parameters
    ----------
    start, end : time-like
        First and last grid time (UTC, inclusive).
    out_dir : str or os.PathLike
        Where the FITS files go (created if needed).
    cadence : str
        Grid step (``"6h"``).
    passbands : str or iterable of str
        AIA passbands (``"all"`` for the nine; ``()`` for none).
    hmi : bool
        Also fetch magnetograms (of ``instrument``).
    email : str
        JSOC-registered address (required unless ``dry_run``).
    tolerance : str
        Largest ``|T_OBS - step|`` of a chosen record.
    retries : int
        Download retries per file.
    retry_pause : float
        Seconds before the first retry (growing linearly after it).
    timeout : float
        Seconds to wait for an export to be ready.
    dry_run : bool
        Only query and plan; export and download nothing.
    client : drms.Client, optional
        Client to use (tests pass a fake); default ``drms.Client(email=email)``.
    opener : callable, optional
        URL opener for :func:`download`.
    progress : callable, optional
        Called as ``progress(message)`` for each step of work.
    instrument : {"hmi", "mdi"}
        Magnetograms from ``hmi.M_720s`` or ``mdi.fd_M_96m_lev182``.

    Returns
    -------
    FetchResult

    Raises
    ------
    FetchError
        Offline, a query refused, or an export or download failed.
    solar_euv.exceptions.SolarEUVError
        For bad arguments (times, cadence, passbands, no e-mail).
    """
    say = progress or (lambda message: None)
    names = () if passbands in ((), [], None, "") else parse_passbands(
        [passbands] if isinstance(passbands, str) else passbands)
    instrument = str(instrument).lower()
    if instrument not in _MAGNETOGRAM_SERIES:
        raise SolarEUVError(f"unknown magnetogram instrument {instrument!r}; JSOC serves "
                            + " and ".join(_MAGNETOGRAM_SERIES))
    channels = ((instrument,) if hmi else ()) + tuple(names)
    if not channels:
        raise SolarEUVError("nothing to fetch: no passband given and HMI turned off")
    if not dry_run and not email:
        raise SolarEUVError("JSOC exports need a registered e-mail address: give --email "
                            "(register it at http://jsoc.stanford.edu/ajax/register_email.html)")
    steps = time_grid(start, end, cadence)
    out_dir = pathlib.Path(out_dir)
    if client is None:
        try:
            client = _default_client(email)
        except (*_NETWORK_ERRORS, OSError) as err:
            raise _offline_error(err) from None
    result = FetchResult()
    for channel in channels:
        say(f"querying {series_for(channel)} {channel}")
        chosen = select_nearest(_query(client, grid_query(channel, start, end, cadence)),
                                steps, channel, tolerance)
        for key, record in list(chosen.items()):
            if record is None:
                window = _query(client, window_query(channel, key, tolerance))
                chosen[key] = select_nearest(window, [key], channel, tolerance)[key]
        todo = []
        for key, record in chosen.items():
            if record is None:
                result.missing.append((channel, key))
                continue
            result.planned.append(record)
            target = out_dir / record.filename
            if target.exists():
                result.skipped.append(target)
            elif record not in todo:
                todo.append(record)
        if dry_run or not todo:
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        for first in range(0, len(todo), _EXPORT_BATCH):
            batch = todo[first:first + _EXPORT_BATCH]
            say(f"exporting {len(batch)} {channel} records")
            pairs = _export(client, channel, batch, email, timeout)
            for record, url in pairs:
                target = out_dir / record.filename
                if download(url, target, retries=retries, pause=retry_pause, opener=opener):
                    result.downloaded.append(target)
                else:
                    result.skipped.append(target)
                say(f"{target.name}")
            served = {record for record, _ in pairs}
            for record in batch:
                if record not in served:     # JSOC exported no file for it
                    result.planned.remove(record)
                    result.missing.append((channel, record.step))
    return result
