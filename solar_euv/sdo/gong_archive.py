"""Full-disk GONG magnetograms from NSO's archive: listing, one file per grid step, download.

sunpy's Fido client for GONG (:class:`sunpy.net.dataretriever.GONGClient`)
serves only GONG's synoptic (Carrington) maps (``oQR/zqs``), which are not
full-disk magnetograms.  This module reads NSO's archive of the site
magnetograms directly, in the product GONG calls "Average Magnetogram (Zero
Point Corrected)", code ``zqa`` (NSO GONG data archive,
https://gong2.nso.edu/archive/patch.pl?menutype=s), one directory per site and
UTC day::

    https://gong2.nso.edu/oQR/zqa/YYYYMM/<site>zqaYYMMDD/<site>zqaYYMMDDtHHMM.fits.gz

This is the layout NSO uses for its QuickReduce (``oQR``) products: the
1-minute site magnetograms as the VSO serves them, for example
``.../oQR/bqa/201308/tdbqa130804/tdbqa130804t1204.fits.gz``, and the synoptic
maps as sunpy's ``GONGClient`` reads them (``.../oQR/zqs/YYYYMM/mrzqsYYMMDD/``).
The sites (Hughes et al. 2016, "GONG ClassicMerge", NSO/NISP-2016-001): ``bb``
Big Bear, ``ct`` Cerro Tololo, ``le`` Learmonth, ``ml`` Mauna Loa, ``td`` El
Teide, ``ud`` Udaipur.

Every UTC day from ``step - tolerance`` to ``step + tolerance`` of every
site is listed (an HTML index; a missing directory, HTTP 404, is a site and
day without data; a page that links to nothing is refused, and a server
error is retried), the time of each file is read from its name (``tHHMM``,
UTC), and for every grid step the file nearest in time within the tolerance
is chosen, whichever site took it (ties: the first site in
:data:`GONG_SITES` order).  The archive address is a parameter
(``solar-euv fetch --gong-archive``) for NSO's mirrors, such as
``https://nispdata.nso.edu/ftp/oQR/zqa``.  GONG files carry no ``QUALITY``
word; :func:`solar_euv.sdo.magnetograms.read_magnetogram` decides later whether
a file is a full-disk line-of-sight magnetogram.
"""
import calendar
import concurrent.futures
import datetime
import http.client
import re
import time as _time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import numpy as np
from astropy.time import Time

from solar_euv.exceptions import SolarEUVError
from solar_euv.sdo.download import NETWORK_ERRORS, FetchError, offline_error
from solar_euv.sdo.times import parse_cadence, parse_time_input

__all__ = ["GONG_ARCHIVE", "GONG_SITES", "GongRecord", "check_archive", "day_url",
           "parse_listing", "list_day", "select_gong", "gong_records"]

GONG_ARCHIVE = "https://gong2.nso.edu/oQR/zqa"
"""NSO's archive of GONG's zero-point-corrected average site magnetograms."""

GONG_SITES = ("bb", "ct", "le", "ml", "td", "ud")
"""GONG's six sites (Big Bear, Cerro Tololo, Learmonth, Mauna Loa, El Teide, Udaipur)."""

_NAME = re.compile(r"^(?P<site>[a-z]{2})zqa(?P<date>\d{6})t(?P<hhmm>\d{4})\.fits(?:\.gz)?$")
_HREF = re.compile(r"""href\s*=\s*["']?([^"' >]+)""", re.IGNORECASE)


def _seconds(t):
    """Seconds since 1970 (UTC, no leap seconds) of a datetime or a Time."""
    if isinstance(t, datetime.datetime):
        return float(calendar.timegm(t.timetuple()))
    return float(Time(t).utc.unix)


@dataclass(frozen=True)
class GongRecord:
    """One GONG file chosen for a grid step.

    Attributes
    ----------
    step : str
        The grid time it serves (UTC ISO-8601 with ``Z``).
    t_obs : str
        The time in its name, UTC ISO-8601 with ``Z`` (minute precision; the
        file's header has the exact time).
    site : str
        Two-letter GONG site code.
    url : str
        Where NSO serves it.
    channel : str
        Always ``"gong"`` (the channel name fetch reports it under).
    """

    step: str
    t_obs: str
    site: str
    url: str
    channel: str = "gong"

    @property
    def filename(self):
        """NSO's file name, kept as it is (``lezqa250109t0135.fits.gz``)."""
        return self.url.rsplit("/", 1)[-1]

    @property
    def label(self):
        """What ``solar-euv fetch --dry-run`` prints for it."""
        return f"NSO GONG zqa ({self.site})  {self.t_obs}  {self.url}"


def check_archive(archive):
    """The archive address without a trailing ``/``, or a one-sentence error.

    Parameters
    ----------
    archive : str
        An ``http://`` or ``https://`` URL.

    Returns
    -------
    str

    Raises
    ------
    solar_euv.exceptions.SolarEUVError
        The address is not an ``http://`` or ``https://`` URL with a host.
    """
    parts = urllib.parse.urlsplit(str(archive))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SolarEUVError(f"the GONG archive address {archive!r} is not an http:// or "
                            f"https:// URL (for example {GONG_ARCHIVE})")
    return str(archive).rstrip("/")


def day_url(archive, site, day):
    """The directory of one site and UTC day.

    Parameters
    ----------
    archive : str
        The archive's address (:data:`GONG_ARCHIVE`).
    site : str
        Two-letter site code.
    day : time-like
        Any time of the UTC day.

    Returns
    -------
    str

    Examples
    --------
    >>> day_url("https://gong2.nso.edu/oQR/zqa", "le", "2025-01-09T01:35:00")
    'https://gong2.nso.edu/oQR/zqa/202501/lezqa250109/'
    """
    t = parse_time_input(day).utc
    return f"{str(archive).rstrip('/')}/{t.strftime('%Y%m')}/{site}zqa{t.strftime('%y%m%d')}/"


def _file_time(date, hhmm):
    """UTC time of ``YYMMDD`` and ``HHMM``, or None for an impossible date (GONG's
    zqa files begin in the 2000s; years 90-99 are read as the 1990s of GONG-classic)."""
    year = int(date[:2])
    year += 1900 if year >= 90 else 2000
    try:
        return datetime.datetime(year, int(date[2:4]), int(date[4:]), int(hhmm[:2]),
                                 int(hhmm[2:]))
    except ValueError:
        return None


def parse_listing(html, directory):
    """The GONG ``zqa`` files an index page links to.

    Parameters
    ----------
    html : str
        The page.
    directory : str
        Its address (after any redirect): relative links are resolved against it.

    Returns
    -------
    list of (str, datetime.datetime, str)
        ``(site, UTC time in the name, url)`` in time order; links whose name
        is not ``<site>zqaYYMMDDtHHMM.fits[.gz]`` (sorting links, the parent
        directory, other products) are passed over.
    """
    found = {}
    for href in _HREF.findall(html):
        url = urllib.parse.urljoin(directory, href)
        match = _NAME.match(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        when = match and _file_time(match["date"], match["hhmm"])
        if when:
            found[url] = (match["site"], when, url)
    return sorted(found.values(), key=lambda item: (item[1], item[0]))


def _offline(err, archive):
    return offline_error(err, service="NSO's GONG archive", address=archive)


def list_day(archive, site, day, *, opener=None, timeout=60, retries=3, pause=5.0):
    """The GONG files of one site and day (empty when the directory is absent).

    Parameters
    ----------
    archive, site, day
        As :func:`day_url`.
    opener : callable, optional
        ``opener(request, timeout=...)`` returning a response (default
        :func:`urllib.request.urlopen`; tests pass a fake).
    timeout : float
        Seconds to wait for the server.
    retries : int
        Further attempts after a server error (HTTP 5xx, 429), pausing
        ``pause``, ``2 pause``, ...

    Returns
    -------
    list of (str, datetime.datetime, str)
        As :func:`parse_listing`.

    Raises
    ------
    FetchError
        The archive cannot be reached, refuses the listing (other than 404),
        answers with a page that links to nothing, or lists FITS files none
        of which is named as this module expects.
    """
    opener = opener or urllib.request.urlopen
    directory = day_url(archive, site, day)
    for attempt in range(int(retries) + 1):
        if attempt:
            _time.sleep(pause * attempt)
        try:
            with opener(urllib.request.Request(directory), timeout=timeout) as response:
                html = response.read().decode("utf-8", "replace")
                where = response.geturl() if hasattr(response, "geturl") else directory
            break
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return []
            if (err.code >= 500 or err.code == 429) and attempt < int(retries):
                continue
            raise FetchError(f"NSO's GONG archive refused the listing {directory}: HTTP "
                             f"{err.code} {err.reason}; try again later") from None
        except (*NETWORK_ERRORS, OSError, http.client.HTTPException) as err:
            raise _offline(err, archive) from None
    if not _HREF.search(html):
        raise FetchError(f"{directory} is not a directory index (the page links to nothing); "
                         "check --gong-archive")
    found = parse_listing(html, where)
    if not found:
        other = [h for h in _HREF.findall(html) if re.search(r"\.(fits|fts)(\.gz|\.fz)?$", h)]
        if other:
            raise FetchError(f"{directory} lists FITS files but none named "
                             f"{site}zqaYYMMDDtHHMM.fits[.gz] (for example {other[0]}); NSO's "
                             "naming may have changed, so nothing is chosen from it")
    return found


def select_gong(files, steps, tolerance="30min", sites=GONG_SITES):
    """For each grid step, the file nearest in time within the tolerance.

    Parameters
    ----------
    files : iterable of (site, time, url)
        As :func:`parse_listing` returns (the time a UTC datetime or an
        astropy Time).
    steps : iterable of time-like
    tolerance : str
        Largest ``|time - step|``.
    sites : sequence of str
        Ties between equally near files go to the site listed first.

    Returns
    -------
    dict
        Grid time (UTC ISO-8601 with ``Z``) -> :class:`GongRecord` or None.
    """
    tol = parse_cadence(tolerance).total_seconds()
    order = {site: k for k, site in enumerate(sites)}
    files = sorted(((site, _seconds(t), url) for site, t, url in files),
                   key=lambda f: (f[1], order.get(f[0], len(order))))
    seconds = np.array([f[1] for f in files], dtype=np.float64)
    rank = [order.get(f[0], len(order)) for f in files]
    chosen = {}
    for step in steps:
        t = parse_time_input(step).utc
        key = t.isot + "Z"
        s = _seconds(t)
        lo, hi = np.searchsorted(seconds, [s - tol - 1e-6, s + tol + 1e-6])
        if lo == hi:
            chosen[key] = None
            continue
        gaps = np.abs(seconds[lo:hi] - s)
        best = lo + min(range(hi - lo), key=lambda k: (gaps[k], rank[lo + k]))
        site, t_file, url = files[best]
        when = datetime.datetime.fromtimestamp(t_file, datetime.timezone.utc)
        chosen[key] = GongRecord(key, when.strftime("%Y-%m-%dT%H:%M:%S.000Z"), site, url)
    return chosen


def _days(steps, tol_seconds):
    """Every UTC day (``YYYY-MM-DD``) some step's window touches."""
    days = set()
    for step in steps:
        s = _seconds(parse_time_input(step))
        day = datetime.datetime.fromtimestamp(s - tol_seconds, datetime.timezone.utc).date()
        last = datetime.datetime.fromtimestamp(s + tol_seconds, datetime.timezone.utc).date()
        while day <= last:
            days.add(day.isoformat())
            day += datetime.timedelta(days=1)
    return sorted(days)


def gong_records(steps, tolerance="30min", *, archive=GONG_ARCHIVE, sites=GONG_SITES,
                 opener=None, progress=None, jobs=1, retries=3, pause=5.0):
    """List the days the grid needs at every site and choose one file per step.

    Parameters
    ----------
    steps : iterable of time-like
    tolerance : str
    archive : str
        The archive's address.
    sites : sequence of str
        Sites to list (ties go to the one listed first).
    opener, retries, pause
        As :func:`list_day`.
    progress : callable, optional
        Called as ``progress(message)`` per day listed.
    jobs : int
        Listings fetched at once (threads).

    Returns
    -------
    dict
        As :func:`select_gong`.
    """
    say = progress or (lambda message: None)
    archive = check_archive(archive)
    sites = tuple(sites)
    unknown = [s for s in sites if s not in GONG_SITES]
    if unknown or not sites:
        raise SolarEUVError(f"unknown GONG site(s) {', '.join(unknown) or '(none given)'}; "
                            f"GONG's sites are {', '.join(GONG_SITES)}")
    steps = list(steps)
    tol = parse_cadence(tolerance).total_seconds()
    work = [(day, site) for day in _days(steps, tol) for site in sites]

    def one(item):
        return list_day(archive, item[1], item[0], opener=opener, retries=retries,
                        pause=pause)

    files = []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, int(jobs)),
                                                 thread_name_prefix="gong")
    try:
        for k, found in enumerate(pool.map(one, work)):
            if k % len(sites) == 0:
                say(f"listing GONG {work[k][0]} at {', '.join(sites)}")
            files.extend(found)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)    # a failed listing: start no more
    return select_gong(files, steps, tolerance, sites)
