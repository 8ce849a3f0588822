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

A day's directory is listed (an HTML index; a missing directory, HTTP 404, is
a site and day without data), the time of each file is read from its name
(``tHHMM``, UTC), and for every grid step the file nearest in time within the
tolerance is chosen, whichever site took it (ties: the first site in
:data:`GONG_SITES` order).  The archive address is a parameter
(``solar-euv fetch --gong-archive``) for NSO's mirrors, such as
``https://nispdata.nso.edu/ftp/oQR/zqa``.  GONG files carry no ``QUALITY``
word; :func:`solar_euv.sdo.magnetograms.read_magnetogram` decides later whether
a file is a full-disk line-of-sight magnetogram.
"""
import re
import urllib.error
import urllib.request
from dataclasses import dataclass

import astropy.units as u
from astropy.time import Time

from solar_euv.exceptions import SolarEUVError
from solar_euv.sdo.download import NETWORK_ERRORS, FetchError, offline_error
from solar_euv.sdo.times import parse_cadence, parse_time_input

__all__ = ["GONG_ARCHIVE", "GONG_SITES", "GongRecord", "day_url", "parse_listing",
           "list_day", "select_gong", "gong_records"]

GONG_ARCHIVE = "https://gong2.nso.edu/oQR/zqa"
"""NSO's archive of GONG's zero-point-corrected average site magnetograms."""

GONG_SITES = ("bb", "ct", "le", "ml", "td", "ud")
"""GONG's six sites (Big Bear, Cerro Tololo, Learmonth, Mauna Loa, El Teide, Udaipur)."""

_NAME = re.compile(r"^(?P<site>[a-z]{2})zqa(?P<date>\d{6})t(?P<hhmm>\d{4})\.fits(?:\.gz)?$")
_HREF = re.compile(r"""href\s*=\s*["']?([^"' >]+)""", re.IGNORECASE)


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


def day_url(archive, site, day):
    """The directory of one site and UTC day.

    Examples
    --------
    >>> day_url("https://gong2.nso.edu/oQR/zqa", "le", "2025-01-09T01:35:00")
    'https://gong2.nso.edu/oQR/zqa/202501/lezqa250109/'
    """
    t = parse_time_input(day).utc
    return f"{str(archive).rstrip('/')}/{t.strftime('%Y%m')}/{site}zqa{t.strftime('%y%m%d')}/"


def parse_listing(html, directory):
    """``(site, Time, url)`` of every GONG ``zqa`` file an index page links to.

    Links are taken relative to ``directory``; names that are not
    ``<site>zqaYYMMDDtHHMM.fits[.gz]`` (sorting links, parent directory,
    other products) are passed over.
    """
    found = {}
    for href in _HREF.findall(html):
        name = href.rsplit("/", 1)[-1]
        match = _NAME.match(name)
        if not match:
            continue
        d, hm = match["date"], match["hhmm"]
        t = Time(f"20{d[:2]}-{d[2:4]}-{d[4:]}T{hm[:2]}:{hm[2:]}:00", scale="utc")
        url = href if "://" in href else directory + name
        found[url] = (match["site"], t, url)
    return sorted(found.values(), key=lambda item: (item[1].jd, item[0]))


def _offline(err, archive):
    return offline_error(err, service="NSO's GONG archive", address=archive)


def list_day(archive, site, day, *, opener=None, timeout=60):
    """The GONG files of one site and day (empty when the directory is absent).

    Raises
    ------
    FetchError
        The archive cannot be reached or refuses the listing (other than 404).
    """
    opener = opener or urllib.request.urlopen
    directory = day_url(archive, site, day)
    try:
        with opener(urllib.request.Request(directory), timeout=timeout) as response:
            html = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return []
        raise FetchError(f"NSO's GONG archive refused the listing {directory}: HTTP {err.code} "
                         f"{err.reason}") from None
    except NETWORK_ERRORS as err:
        raise _offline(err, archive) from None
    except OSError as err:          # e.g. http.client.RemoteDisconnected
        raise _offline(err, archive) from None
    return parse_listing(html, directory)


def select_gong(files, steps, tolerance="30min", sites=GONG_SITES):
    """For each grid step, the file nearest in time within the tolerance.

    Parameters
    ----------
    files : iterable of (site, Time, url)
        As :func:`parse_listing` returns.
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
    files = list(files)
    chosen = {}
    for step in steps:
        t = parse_time_input(step)
        key = t.isot + "Z"
        best = None
        for site, t_file, url in files:
            gap = abs((t_file - t).to_value(u.s))
            rank = (gap, order.get(site, len(order)))
            if gap <= tol + 1e-6 and (best is None or rank < best[0]):
                best = (rank, GongRecord(key, t_file.isot + "Z", site, url))
        chosen[key] = best[1] if best else None
    return chosen


def gong_records(steps, tolerance="30min", *, archive=GONG_ARCHIVE, sites=GONG_SITES,
                 opener=None, progress=None):
    """List the days the grid needs at every site and choose one file per step.

    Returns
    -------
    dict
        As :func:`select_gong`.
    """
    say = progress or (lambda message: None)
    sites = tuple(sites)
    unknown = [s for s in sites if s not in GONG_SITES]
    if unknown or not sites:
        raise SolarEUVError(f"unknown GONG site(s) {', '.join(unknown) or '(none)'}; GONG's "
                            f"sites are {', '.join(GONG_SITES)}")
    tol = parse_cadence(tolerance).total_seconds() * u.s
    days = set()
    for step in steps:
        t = parse_time_input(step)
        for edge in (t - tol, t, t + tol):
            days.add(edge.utc.strftime("%Y-%m-%d"))
    files = []
    for day in sorted(days):
        say(f"listing GONG {day} at {', '.join(sites)}")
        for site in sites:
            files.extend(list_day(archive, site, day, opener=opener))
    return select_gong(files, steps, tolerance, sites)
