"""AIA pointing from JSOC's master pointing table (``prepare --pointing jsoc``).

A level-1 AIA header carries the pointing of the time it was made; JSOC's
3-hourly master pointing table (the series ``aia.master_pointing3h``, from
limb fits) is the better one, and level 1.5 (``aia_prep``) uses it.
:func:`fetch_pointing_table` asks JSOC for the table once for a run, through
aiapy (:func:`aiapy.calibrate.util.get_pointing_table` with ``"jsoc"``), for
the whole calendar months the run's AIA images fall in (from the day before
the first month), and keeps it under the package cache
(:func:`solar_euv.sdo.jsoc_table.cache_dir`) as
``aia_master_pointing3h_<first month>_<last month>.ecsv``.  When that file
already exists it is used as it is, without asking JSOC again, so a rerun
(and a run on more files of the same months) gets the same table, with the
same SHA-256, and keeps its shards; only an image later than the cached
table's last entry (a table fetched during that month) fetches it again.

:func:`apply_pointing` is :func:`aiapy.calibrate.update_pointing` for the
maps :mod:`solar_euv.sdo.prep` works on: aiapy accepts only full-frame
4096 x 4096 maps, and prep reads files binned (and synthetic files are
smaller); the update is computed by aiapy on a full-frame stand-in of the
map's header (no pixel data) and carried back to the map's pixels
(``CRPIX' = (CRPIX - 0.5) / b + 0.5``, ``CDELT' = CDELT b``, ``b = 4096 /
N``).  ``CROTA2`` is the table's ``INSTROT`` plus the header's ``SAT_ROT``
(0 where the header has none, as in synthetic files).  A level-1.5 image is
already registered and keeps its header.
"""
import functools
import os
import pathlib
import warnings

from solar_euv.atomic import atomic_path
from solar_euv.checksums import file_sha256
from solar_euv.exceptions import InputError, SolarEUVError, SolarEUVWarning

__all__ = ["HEADER", "JSOC", "SERIES", "pointing_months", "fetch_pointing_table",
           "pointing_table_info", "load_pointing_table", "apply_pointing"]

HEADER = "header"
"""The ``--pointing`` value that keeps the FITS header's pointing (the default)."""

JSOC = "jsoc"
"""The ``--pointing`` value that applies JSOC's master pointing table."""

SERIES = "aia.master_pointing3h"
"""JSOC series of the 3-hourly master pointing table."""

FULL_FRAME = 4096
"""Side of a full-resolution AIA image, the pixels the table's X0, Y0 count."""

_QUANTITIES = {"X0": "pix", "Y0": "pix", "IMSCALE": "arcsec / pix", "INSTROT": "deg"}
_KEYS = ("crpix1", "crpix2", "cdelt1", "cdelt2", "crota2", "x0_mp", "y0_mp")
_NO_POINTING = "--pointing header prepares with the pointing of the FITS headers"


def _utc(value):
    """An astropy Time (UTC) of a Time or of ISO text (a trailing ``Z`` allowed)."""
    from astropy.time import Time

    return value if isinstance(value, Time) else Time(str(value).rstrip("Z"), scale="utc")


def pointing_months(times):
    """The months a pointing table must cover for these observation times.

    Parameters
    ----------
    times : iterable of str or astropy.time.Time
        UTC observation times of the AIA images.

    Returns
    -------
    tuple of str
        ``(first, last)`` as ``"YYYY-MM"``.
    """
    months = sorted(_utc(t).isot[:7] for t in times)
    if not months:
        raise SolarEUVError("no AIA image to fetch a pointing table for")
    return months[0], months[-1]


def _query_range(first, last):
    """``(start, end)`` Times of the query: the day before ``first`` to the end of ``last``."""
    import astropy.units as u
    from astropy.time import Time

    start = Time(f"{first}-01T00:00:00", scale="utc") - 1 * u.day
    year, month = (int(v) for v in last.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    end = Time(f"{year:04d}-{month:02d}-01T00:00:00", scale="utc") - 1 * u.s
    return start, end


def _plain(table):
    """T_START, T_STOP (ISO strings) and every ``A_<wl>_<quantity>`` column, as floats."""
    import astropy.units as u
    from astropy.table import QTable

    out = QTable()
    for name in ("T_START", "T_STOP"):
        out[name] = [_utc(v).isot for v in table[name]]
    for name in table.colnames:
        parts = name.split("_")
        if len(parts) == 3 and parts[0] == "A" and parts[2] in _QUANTITIES:
            unit = _QUANTITIES[parts[2]]
            column = table[name]
            values = column.to_value(unit) if hasattr(column, "unit") and column.unit \
                else column
            out[name] = [float(v) for v in values] * u.Unit(unit)
    return out


def fetch_pointing_table(times, directory=None):
    """The master pointing table covering ``times``: the cached file, else fetched once.

    Parameters
    ----------
    times : iterable of str or astropy.time.Time
        UTC observation times of the AIA images to prepare.
    directory : path, optional
        Where to keep it; :func:`solar_euv.sdo.jsoc_table.cache_dir` by default.

    Returns
    -------
    pathlib.Path
        ``aia_master_pointing3h_<YYYY-MM>_<YYYY-MM>.ecsv``.

    Raises
    ------
    solar_euv.exceptions.SolarEUVError
        When the file is not cached and JSOC cannot be reached or has no table
        for those months.
    """
    from astropy.io import ascii as astropy_ascii

    from solar_euv.sdo import thirdparty
    from solar_euv.sdo.jsoc_table import cache_dir

    times = list(times)
    first, last = pointing_months(times)
    folder = pathlib.Path(os.fspath(directory)) if directory is not None else cache_dir()
    path = folder / f"aia_master_pointing3h_{first}_{last}.ecsv"
    if path.is_file() and not _newer_than(path, times):
        return path
    start, end = _query_range(first, last)
    util = thirdparty.import_module("aiapy.calibrate.util")
    span = f"{start.isot[:10]} to {end.isot[:10]}"
    try:
        table = util.get_pointing_table(JSOC, time_range=(start, end))
    except OSError as err:
        reason = " ".join(str(err).split())[:200]
        raise SolarEUVError(f"cannot fetch the AIA pointing table ({SERIES}, {span}) from "
                            f"JSOC ({reason}): JSOC is out of reach (offline?); "
                            f"{_NO_POINTING}") from None
    except Exception as err:            # "No data found" (RuntimeError), odd columns, ...
        raise SolarEUVError(f"JSOC answered with no usable AIA pointing table ({SERIES}, "
                            f"{span}: {type(err).__name__}: {' '.join(str(err).split())}); "
                            f"{_NO_POINTING}") from None
    plain = _plain(table)
    if len(plain) == 0 or len(plain.colnames) == 2:
        raise SolarEUVError(f"JSOC answered with an empty AIA pointing table ({SERIES}, "
                            f"{span}); {_NO_POINTING}")
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        astropy_ascii.write(plain, tmp, format="ecsv", overwrite=True)
    return path


def _newer_than(path, times):
    """True when a time is past the cached table's last ``T_STOP`` (fetched that month)."""
    try:
        table = load_pointing_table(path)
    except InputError:
        return True                             # unreadable: fetch it again
    newest = max(_utc(t) for t in times)
    return bool(newest >= table["T_STOP"].max())


def pointing_table_info(path):
    """Name, path, SHA-256 and time range of a cached pointing table (for manifests).

    Returns
    -------
    dict
        ``{"name", "path", "sha256", "time_range": [first T_START, last T_STOP]}``.
    """
    path = pathlib.Path(os.fspath(path))
    table = load_pointing_table(path)
    digest = file_sha256(path)
    return {"name": path.name, "path": str(path), "sha256": digest,
            "time_range": [table["T_START"].min().isot + "Z", table["T_STOP"].max().isot + "Z"]}


@functools.lru_cache(maxsize=4)
def _load(path_str, mtime):
    from astropy.table import QTable
    from astropy.time import Time

    try:
        table = QTable.read(path_str, format="ascii.ecsv")
        table["T_START"] = Time(table["T_START"], scale="utc")
        table["T_STOP"] = Time(table["T_STOP"], scale="utc")
    except Exception as err:    # astropy raises many types for a bad table
        raise InputError(path_str, f"is not a readable AIA pointing table ({err})") from None
    return table


def load_pointing_table(path):
    """Read a cached pointing table (:func:`fetch_pointing_table`) as a QTable (cached).

    Parameters
    ----------
    path : str, os.PathLike or astropy.table.QTable
        The ECSV file, or an already loaded table (returned unchanged).

    Returns
    -------
    astropy.table.QTable
        ``T_START``, ``T_STOP`` as Time, the pointing columns as Quantities.
    """
    if not isinstance(path, (str, os.PathLike)):
        return path
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        raise InputError(path, "does not exist (expected an AIA pointing table)") from None
    return _load(os.fspath(path), mtime)


def apply_pointing(image, pointing_table):
    """The AIA image with its pointing updated from the master pointing table.

    Parameters
    ----------
    image : solar_euv.sdo.io.SDOImage
        A level-1 AIA image, full frame, possibly binned while read.
    pointing_table : str, os.PathLike or astropy.table.QTable
        The table (:func:`fetch_pointing_table`).

    Returns
    -------
    sunpy.map.GenericMap
        A new map: ``CRPIX1/2``, ``CDELT1/2`` and ``CROTA2`` from the table's
        entry with ``T_START <= T_OBS < T_STOP`` (aiapy's choice), ``X0_MP``,
        ``Y0_MP`` in full-frame pixels, no ``PCi_j``.  A level-1.5 image is
        returned unchanged, with a warning.

    Raises
    ------
    solar_euv.exceptions.InputError
        When the table has no entry for the image's time, or the image is
        not a square full-disk frame.
    """
    import numpy as np
    import sunpy.map

    from solar_euv.sdo.thirdparty import aiapy_calibrate

    smap, where = image.map, image.path or "<map>"
    if image.level >= 1.5:
        warnings.warn("AIA level-1.5 images keep the pointing of their headers (they are "
                      "already registered): --pointing jsoc updates level-1 images",
                      SolarEUVWarning, stacklevel=2)
        return smap
    ny, nx = np.shape(smap.data)
    if nx != ny:
        raise InputError(where, f"is {nx} x {ny} pixels, not a square full frame the AIA "
                                "pointing table applies to", category="cutout")
    b = FULL_FRAME / nx
    meta = dict(smap.meta)
    full = dict(meta, sat_rot=meta.get("sat_rot", 0.0), naxis1=FULL_FRAME, naxis2=FULL_FRAME,
                crpix1=(meta["crpix1"] - 0.5) * b + 0.5, crpix2=(meta["crpix2"] - 0.5) * b + 0.5,
                cdelt1=meta["cdelt1"] / b, cdelt2=meta["cdelt2"] / b)
    table = load_pointing_table(pointing_table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # sunpy's header notes
        standin = sunpy.map.Map((np.broadcast_to(np.float32(0), (FULL_FRAME,) * 2), full))
    try:
        updated = aiapy_calibrate().update_pointing(standin, pointing_table=table).meta
    except IndexError:
        raise InputError(where, f"has no entry in the AIA pointing table for its time "
                                f"{image.time.isot}Z; {_NO_POINTING}",
                         category="uncorrectable") from None
    except (ValueError, KeyError) as err:
        raise InputError(where, f"cannot take the AIA pointing table's pointing ({err}); "
                                f"{_NO_POINTING}", category="uncorrectable") from None
    for key in _KEYS:
        if key not in updated or (key in full and updated[key] == full[key]):
            continue                                # not updated (a missing table value)
        value = float(updated[key])
        if key.startswith("crpix"):
            value = (value - 0.5) / b + 0.5
        elif key.startswith("cdelt"):
            value *= b
        meta[key] = value
    for key in ("pc1_1", "pc1_2", "pc2_1", "pc2_2"):
        meta.pop(key, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sunpy.map.Map((smap.data, meta))
