"""Find and download HMI or MDI magnetograms and AIA level-1 images from JSOC (drms),
and GONG magnetograms from NSO (:mod:`solar_euv.sdo.gong_archive`).

For every step of a time grid and every channel, the record nearest in time
within a tolerance and not flagged unusable by its ``QUALITY`` word is
selected (the series, segments and the choice: :mod:`solar_euv.sdo.jsoc_query`).

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
query or an export, :class:`~solar_euv.sdo.download.FetchError` says so in
one sentence.  Record sets and the choice of records are in
:mod:`solar_euv.sdo.jsoc_query`, downloads in :mod:`solar_euv.sdo.download`;
this module sends the queries and exports and ties the steps together.
"""
import pathlib
import re
from dataclasses import dataclass, field

from solar_euv.exceptions import SolarEUVError
from solar_euv.passbands import parse_passbands
from solar_euv.progress import FileBar
from solar_euv.sdo.download import NETWORK_ERRORS, FetchError, download, offline_error
from solar_euv.sdo.jsoc_query import (MAGNETOGRAM_SERIES, QUERY_KEYS, export_query, grid_query,
                                      magnetogram_series, select_nearest, series_for,
                                      table_rows, time_grid, window_query)

__all__ = ["FetchResult", "fetch"]

_EXPORT_BATCH = 100


@dataclass
class FetchResult:
    """What :func:`fetch` did.

    Attributes
    ----------
    planned : list of Record or GongRecord
        Records chosen for the grid (JSOC's, and GONG files from NSO).
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
    except NETWORK_ERRORS as err:
        raise offline_error(err) from None
    except OSError as err:  # e.g. http.client.RemoteDisconnected
        raise offline_error(err) from None


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
    except NETWORK_ERRORS as err:
        raise offline_error(err) from None
    wave = "" if magnetogram_series(channel) else channel
    by_key = {(r.t_rec, wave): r for r in records}
    pairs = []
    for row in table_rows(urls):
        t_rec, w = _record_key(row.get("record"))
        record = by_key.get((t_rec, w if wave else ""))
        if record is None and len(records) == 1:
            record = records[0]
        if record is not None:
            pairs.append((record, row["url"]))
    return pairs


def fetch(start, end, out_dir, *, cadence="6h", passbands="all", hmi=True, email=None,
          tolerance="6min", retries=3, retry_pause=5.0, timeout=600, dry_run=False,
          client=None, opener=None, progress=None, instrument="hmi", jobs=1, bar=False,
          gong_archive=None, gong_sites=None):
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
    instrument : {"hmi", "mdi", "gong"}
        Magnetograms from ``hmi.M_720s`` or ``mdi.fd_M_96m_lev182`` (JSOC), or
        GONG's full-disk site magnetograms from NSO
        (:mod:`solar_euv.sdo.gong_archive`; AIA, if asked for, still from JSOC).
    jobs : int
        Files downloaded at once (threads; JSOC serves each export's files
        from one host, so a few are enough).
    bar : bool
        Show one progress bar (tqdm, on stderr) over every file to download.
    gong_archive : str, optional
        NSO archive address for ``instrument="gong"`` (default
        :data:`~solar_euv.sdo.gong_archive.GONG_ARCHIVE`).
    gong_sites : sequence of str, optional
        GONG sites to take files from (default all six).

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
    if instrument not in (*MAGNETOGRAM_SERIES, "gong"):
        raise SolarEUVError(f"unknown magnetogram instrument {instrument!r}; fetch knows "
                            + ", ".join((*MAGNETOGRAM_SERIES, "gong")))
    gong = hmi and instrument == "gong"
    channels = ((instrument,) if hmi and not gong else ()) + tuple(names)   # from JSOC
    if not channels and not gong:
        raise SolarEUVError("nothing to fetch: no passband given and the magnetograms "
                            "turned off")
    if channels and not dry_run and not email:
        raise SolarEUVError("JSOC exports need a registered e-mail address: give --email "
                            "(register it at http://jsoc.stanford.edu/ajax/register_email.html)")
    steps = time_grid(start, end, cadence)
    out_dir = pathlib.Path(out_dir)
    if int(jobs) < 1:
        raise SolarEUVError(f"jobs must be at least 1; received {jobs}")
    if channels and client is None:
        try:
            client = _default_client(email)
        except (*NETWORK_ERRORS, OSError) as err:
            raise offline_error(err) from None
    result = FetchResult()
    files = FileBar("fetch", enabled=bar)   # one bar over every file to download
    try:
        if gong:
            _fetch_gong(steps, tolerance, out_dir, result, files, say, dry_run=dry_run,
                        retries=retries, retry_pause=retry_pause, opener=opener,
                        jobs=int(jobs), archive=gong_archive, sites=gong_sites)
        for channel in channels:
            _fetch_channel(client, channel, steps, start, end, cadence, tolerance, out_dir,
                           result, files, say, dry_run=dry_run, email=email, timeout=timeout,
                           retries=retries, retry_pause=retry_pause, opener=opener,
                           jobs=int(jobs))
    finally:
        files.close()
    return result


def _fetch_channel(client, channel, steps, start, end, cadence, tolerance, out_dir, result,
                   files, say, *, dry_run, email, timeout, retries, retry_pause, opener, jobs):
    """Query, choose, export and download the records of one channel into ``result``."""
    say(f"querying {series_for(channel)} {channel}")
    chosen = select_nearest(_query(client, grid_query(channel, start, end, cadence)),
                            steps, channel, tolerance)
    for key, record in list(chosen.items()):
        if record is None:
            window = _query(client, window_query(channel, key, tolerance))
            chosen[key] = select_nearest(window, [key], channel, tolerance)[key]
    todo = _plan(chosen, channel, out_dir, result)
    if dry_run or not todo:
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    files.add(len(todo))
    for first in range(0, len(todo), _EXPORT_BATCH):
        batch = todo[first:first + _EXPORT_BATCH]
        say(f"exporting {len(batch)} {channel} records")
        pairs = _export(client, channel, batch, email, timeout)

        _download_all([(url, record.filename) for record, url in pairs], out_dir, result,
                      files, say, retries=retries, retry_pause=retry_pause, opener=opener,
                      jobs=jobs)
        served = {record for record, _ in pairs}
        for record in batch:
            if record not in served:     # JSOC exported no file for it
                result.planned.remove(record)
                result.missing.append((channel, record.step))
                files.update()


def _fetch_gong(steps, tolerance, out_dir, result, files, say, *, dry_run, retries,
                retry_pause, opener, jobs, archive, sites):
    """List NSO's GONG archive, choose one file per step and download them into ``result``."""
    from solar_euv.sdo.gong_archive import GONG_ARCHIVE, GONG_SITES, gong_records

    archive = archive or GONG_ARCHIVE
    chosen = gong_records(steps, tolerance, archive=archive,
                          sites=GONG_SITES if sites is None else sites, opener=opener,
                          progress=say, jobs=jobs, retries=retries, pause=retry_pause)
    todo = _plan(chosen, "gong", out_dir, result)
    if dry_run or not todo:
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    files.add(len(todo))
    _download_all([(record.url, record.filename) for record in todo], out_dir, result, files,
                  say, retries=retries, retry_pause=retry_pause, opener=opener, jobs=jobs)


def _plan(chosen, channel, out_dir, result):
    """Record the chosen records (or the missing steps) in ``result``; the ones to download.

    A file chosen for several steps is fetched and counted once; one already
    in ``out_dir`` is counted as skipped.
    """
    todo, seen = [], set()
    for key, record in chosen.items():
        if record is None:
            result.missing.append((channel, key))
            continue
        result.planned.append(record)
        if record.filename in seen:     # two steps, one file: fetched and counted once
            continue
        seen.add(record.filename)
        target = out_dir / record.filename
        if target.exists():
            result.skipped.append(target)
        else:
            todo.append(record)
    return todo


def _download_all(sources, out_dir, result, files, say, *, retries, retry_pause, opener,
                  jobs):
    """Download ``(url, file name)`` pairs into ``out_dir`` on ``jobs`` threads, in order,
    counting each in ``result`` and on the progress bar."""
    def one(source):
        url, name = source
        return out_dir / name, download(url, out_dir / name, retries=retries,
                                        pause=retry_pause, opener=opener)

    for target, fresh in _in_order(one, sources, jobs):
        (result.downloaded if fresh else result.skipped).append(target)
        files.update()
        say(f"{target.name}")


def _in_order(func, items, jobs):
    """``func`` over ``items`` on ``jobs`` threads; results in item order."""
    if jobs <= 1 or len(items) <= 1:
        yield from map(func, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="fetch") as pool:
        futures = [pool.submit(func, item) for item in items]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()             # a failed file: start no further downloads
