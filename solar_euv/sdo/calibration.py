"""AIA degradation correction from a correction table file (never the network).

AIA's sensitivity falls with time.  The correction of aiapy
(:func:`aiapy.calibrate.degradation`, after SolarSoft's ``aia_bp_corrections``)
divides an image by ``A_eff(t_e) / A_eff(t_0) * (1 + p1 dt + p2 dt^2 + p3 dt^3)``,
the effective area of the calibration epoch containing the observation time
relative to the first epoch, interpolated within the epoch.  Its parameters
come from an ``aia_V*_response_table.txt`` table.

This package ships the version 8 table
(``data/aia_V8_20171210_050627_response_table.txt``, installed as
``solar_euv.data``), valid until 2030; a newer table downloaded from SolarSoft
(``$SSW/sdo/aia/response/``) can be given by path, and
:func:`solar_euv.sdo.jsoc_table.fetch_correction_table` fetches the current
one from JSOC into a file.  Nothing here contacts JSOC or SSW.
"""
import functools
import importlib.resources
import os
import pathlib
import warnings

import astropy.units as u
from astropy.time import Time

from solar_euv.checksums import file_sha256
from solar_euv.exceptions import InputError, SolarEUVError, SolarEUVWarning
from solar_euv.passbands import get_passband

__all__ = [
    "DEFAULT_CORRECTION_TABLE",
    "correction_table_path",
    "correction_table_info",
    "load_correction_table",
    "degradation_factor",
    "table_degradation_factor",
]

DEFAULT_CORRECTION_TABLE = "aia_V8_20171210_050627_response_table.txt"
"""File name of the correction table shipped in ``solar_euv.data``."""


def correction_table_path(correction_table=None):
    """Path of the correction table to use.

    Parameters
    ----------
    correction_table : str, os.PathLike or None
        A table file (``aia_V*_response_table.txt``); None selects the table
        shipped with the package.

    Returns
    -------
    pathlib.Path
    """
    if correction_table is None:
        resource = importlib.resources.files("solar_euv.data") / DEFAULT_CORRECTION_TABLE
        return pathlib.Path(str(resource))
    return pathlib.Path(os.fspath(correction_table))


def correction_table_info(correction_table=None):
    """Name and SHA-256 of the correction table, for recording in manifests.

    Returns
    -------
    dict
        ``{"name": file name, "path": str, "sha256": hex digest}``.
    """
    path = correction_table_path(correction_table)
    try:
        digest = file_sha256(path)
    except OSError as err:
        raise InputError(path, f"cannot be read as a correction table ({err.strerror})") from None
    return {"name": path.name, "path": str(path), "sha256": digest}


@functools.lru_cache(maxsize=8)
def _load_table(path_str, mtime):
    from solar_euv.sdo.thirdparty import import_module

    get_correction_table = import_module("aiapy.calibrate.util").get_correction_table
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return get_correction_table(pathlib.Path(path_str))
    except FileNotFoundError:
        raise InputError(path_str, "does not exist (expected an AIA correction table)") from None
    except Exception as err:  # astropy.io.ascii raises many types for bad tables
        message = (f"is not a readable AIA correction table "
                   f"(aia_V*_response_table.txt): {err}")
        raise InputError(path_str, message) from None


def load_correction_table(correction_table=None):
    """Read a correction table into an :class:`astropy.table.QTable` (cached).

    Parameters
    ----------
    correction_table : str, os.PathLike, astropy.table.Table or None
        A table file, an already loaded table (returned unchanged) or None for
        the shipped table.

    Returns
    -------
    astropy.table.QTable

    Raises
    ------
    solar_euv.exceptions.InputError
        If the file is missing or not a correction table.
    """
    if correction_table is not None and not isinstance(correction_table, (str, os.PathLike)):
        return correction_table
    path = correction_table_path(correction_table)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        raise InputError(path, "does not exist (expected an AIA correction table)") from None
    return _load_table(str(path), mtime)


_NEWER_TABLE = ("give a newer table: solar-euv prepare --correction-table jsoc (the current "
                "table, fetched from JSOC) or --correction-table FILE (an "
                "aia_V*_response_table.txt)")


def _table_name(correction_table):
    if correction_table is None or isinstance(correction_table, (str, os.PathLike)):
        return correction_table_path(correction_table).name
    return "the given correction table"


def _table_factor(passband, time, correction_table):
    """``(band, obstime, table, factor)``: the table's factor, neither checked nor warned about."""
    from solar_euv.sdo.thirdparty import aiapy_calibrate

    degradation = aiapy_calibrate().degradation
    if isinstance(passband, u.Quantity):
        passband = f"{passband.to_value(u.AA):.0f}"
    band = get_passband(passband)
    try:
        obstime = Time(time, scale="utc")
    except (ValueError, TypeError):
        raise SolarEUVError(f"cannot read {time!r} as an observation time") from None
    table = load_correction_table(correction_table)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = degradation(band.wavelength, obstime, correction_table=table)
    except ValueError as err:
        message = (f"no degradation correction for AIA {band.name} at {obstime.isot} "
                   f"in {_table_name(correction_table)}: {err}")
        raise SolarEUVError(message) from None
    factor = float(u.Quantity(value).to_value(u.dimensionless_unscaled).ravel()[0])
    return band, obstime, table, factor


def table_degradation_factor(passband, time, correction_table=None):
    """The correction table's degradation factor as it is, however far extrapolated.

    The same value as :func:`degradation_factor`, without its warning for a
    time past the table's date and without its check that the factor is
    positive: the synthetic Sun's instrument
    (:func:`solar_euv.synthetic.observer.aia_degradation`) is defined this way.

    Parameters
    ----------
    passband : str, int or astropy.units.Quantity
    time : str, datetime or astropy.time.Time
    correction_table : str, os.PathLike, astropy.table.Table or None

    Returns
    -------
    float
    """
    return _table_factor(passband, time, correction_table)[3]


def degradation_factor(passband, time, correction_table=None):
    """Degradation factor of an AIA passband at a time (divide data by it).

    Parameters
    ----------
    passband : str, int or astropy.units.Quantity
        AIA passband (``"171"``, ``171``, ``171 * u.AA``).
    time : str, datetime or astropy.time.Time
        Observation time (UTC).
    correction_table : str, os.PathLike, astropy.table.Table or None
        Correction table file or loaded table; None uses the shipped V8 table.

    Returns
    -------
    float
        The factor (1 at launch, below 1 as the channel degrades); the
        corrected intensity is ``data / factor``.

    Raises
    ------
    solar_euv.exceptions.SolarEUVError
        For an unknown passband, or a time outside every epoch of the table.
    """
    band, obstime, table, factor = _table_factor(passband, time, correction_table)
    newest = Time(max(str(d) for d in table["DATE"]), scale="utc")
    if obstime > newest:
        warnings.warn(f"the degradation of AIA {band.name} is extrapolated past the correction "
                      f"table {_table_name(correction_table)} (made {newest.isot[:10]}) for "
                      f"images after that date; {_NEWER_TABLE}", SolarEUVWarning, stacklevel=2)
    if not factor > 0.0:
        message = (f"the degradation correction for AIA {band.name} at {obstime.isot} is "
                   f"{factor:.3g} in {_table_name(correction_table)}, not physical (the table "
                   f"is extrapolated too far); {_NEWER_TABLE}")
        raise SolarEUVError(message)
    return factor
