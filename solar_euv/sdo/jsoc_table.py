"""The current AIA degradation correction table from JSOC, cached on disk.

The table shipped with the package (V8, made 2017-12-10) is extrapolated for
later data, and for AIA 304 in 2024 it extrapolates to a negative factor.
:func:`fetch_correction_table` asks JSOC (``aia.response``) for the current
table through aiapy (:func:`aiapy.calibrate.util.get_correction_table` with
``"JSOC"``), writes it as an ECSV file under the package cache
(:func:`cache_dir`) and returns that file, which then serves like any
``aia_V*_response_table.txt`` (``--correction-table FILE``): its name and
SHA-256 go into the manifest, and an unchanged table gives the same file, so
a rerun keeps its shards.  Offline, it fails with one sentence that names
``--correction-table FILE`` and the table fetched last, if any.
"""
import os
import pathlib
import warnings

from solar_euv.checksums import file_sha256
from solar_euv.exceptions import SolarEUVError

__all__ = ["JSOC", "CACHE_ENV", "cache_dir", "fetch_correction_table"]

JSOC = "jsoc"
"""The ``--correction-table`` value that fetches the current table from JSOC."""

CACHE_ENV = "SOLAR_EUV_CACHE"
"""Environment variable that overrides :func:`cache_dir`."""

_COLUMNS = ("DATE", "VER_NUM", "WAVE_STR", "WAVELNTH", "T_START", "T_STOP", "EFFA_P1",
            "EFFA_P2", "EFFA_P3", "EFF_AREA", "EFF_WVLN")


def cache_dir():
    """The package cache: ``$SOLAR_EUV_CACHE``, else ``$XDG_CACHE_HOME/solar_euv``,
    else ``~/.cache/solar_euv`` (not created here)."""
    if os.environ.get(CACHE_ENV):
        return pathlib.Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "solar_euv"


def _plain(table):
    """The table's columns as plain strings and numbers (a stable ECSV file)."""
    from astropy.table import Table
    from astropy.time import Time
    from erfa import ErfaWarning

    out = Table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ErfaWarning)   # epochs end in 2030: "dubious year"
        for name in ("DATE", "T_START", "T_STOP"):
            out[name] = [Time(v if isinstance(v, Time) else str(v).rstrip("Z"),
                              scale="utc").isot for v in table[name]]
    out["VER_NUM"] = [int(v) for v in table["VER_NUM"]]
    out["WAVE_STR"] = [str(v) for v in table["WAVE_STR"]]
    for name in ("WAVELNTH", "EFFA_P1", "EFFA_P2", "EFFA_P3", "EFF_AREA", "EFF_WVLN"):
        out[name] = [float(getattr(v, "value", v)) for v in table[name]]
    return out[list(_COLUMNS)]


def _offline_message(reason):
    cached = sorted(cache_dir().glob("aia_V*_jsoc_response_table.ecsv")) \
        if cache_dir().is_dir() else []
    hint = f", for example the table fetched earlier, {cached[-1]}" if cached else ""
    return (f"cannot fetch the current AIA correction table from JSOC ({reason}): JSOC is "
            "out of reach (offline?); give a table file with --correction-table FILE "
            f"(an aia_V*_response_table.txt){hint}")


def fetch_correction_table(directory=None):
    """Fetch the current correction table from JSOC and cache it as a file.

    Parameters
    ----------
    directory : path, optional
        Where to keep it; :func:`cache_dir` by default.

    Returns
    -------
    pathlib.Path
        ``aia_V<version>_jsoc_response_table.ecsv`` (the highest calibration
        version in the table); the same file when JSOC's table is unchanged.

    Raises
    ------
    solar_euv.exceptions.SolarEUVError
        When JSOC cannot be reached or returns no usable table.
    """
    from astropy.io import ascii as astropy_ascii

    from solar_euv.sdo import thirdparty

    util = thirdparty.import_module("aiapy.calibrate.util")
    try:
        table = util.get_correction_table(JSOC.upper())
    except OSError as err:
        raise SolarEUVError(_offline_message(" ".join(str(err).split())[:200])) from None
    except Exception as err:           # an unexpected answer (missing columns, ...)
        raise SolarEUVError("JSOC answered with no usable AIA correction table "
                            f"({type(err).__name__}: {err}); give a table file with "
                            "--correction-table FILE") from None
    if len(table) == 0:
        raise SolarEUVError("JSOC answered with an empty AIA correction table; give a table "
                            "file with --correction-table FILE")
    plain = _plain(table)
    version = int(max(plain["VER_NUM"]))
    folder = pathlib.Path(os.fspath(directory)) if directory is not None else cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"aia_V{version}_jsoc_response_table.ecsv"
    tmp = path.with_name(path.name + ".partial")
    astropy_ascii.write(plain, tmp, format="ecsv", overwrite=True)
    if path.exists() and file_sha256(path) == file_sha256(tmp):
        tmp.unlink()                    # unchanged: keep the file (and its mtime)
    else:
        os.replace(tmp, path)
    return path

