"""Line-of-sight magnetograms of any instrument on the common grid, in HMI-equivalent Gauss.

:func:`read_magnetogram` takes a FITS file or a :class:`sunpy.map.GenericMap`
and returns a :class:`Magnetogram`: the field on the common grid (DESIGN.md,
:mod:`solar_euv.scaling`), the observation time, the instrument and the
cross-calibration that made it HMI-equivalent.  Generation
(:func:`solar_euv.generate`, ``solar-euv predict``) reads every magnetogram
through it.

Instruments
-----------
``hmi``
    SDO/HMI ``hmi.M_720s`` / ``hmi.M_45s`` (validated by
    :func:`solar_euv.sdo.io.read_sdo`); factor 1.

The cross-calibration of every instrument is in :data:`CROSS_CALIBRATION`
and is recorded in the header of everything generated from it
(:func:`header_cards`).
"""
import os
import pathlib
from dataclasses import dataclass, field

import numpy as np

from solar_euv.exceptions import InputError, SolarEUVError

__all__ = [
    "CrossCalibration",
    "CROSS_CALIBRATION",
    "Magnetogram",
    "magnetogram_instrument",
    "read_magnetogram",
    "header_cards",
]


@dataclass(frozen=True)
class CrossCalibration:
    """How an instrument's line-of-sight field is made HMI-equivalent.

    ``B_HMI = factor * B_instrument``.

    Attributes
    ----------
    instrument : str
        ``"hmi"``, ``"mdi"`` or ``"gong"``.
    name : str
        Observatory and instrument as written in headers (``"SOHO/MDI"``).
    factor : float
        Multiplies the instrument's Gauss to give HMI-equivalent Gauss.
    reference : str
        The publication the factor comes from (short form, fits a FITS card).
    doi : str
        Its DOI ("" for HMI itself).
    """

    instrument: str
    name: str
    factor: float
    reference: str
    doi: str = ""


CROSS_CALIBRATION = {
    "hmi": CrossCalibration("hmi", "SDO/HMI", 1.0, "none: HMI is the reference"),
}
"""Instrument -> :class:`CrossCalibration`."""


@dataclass
class Magnetogram:
    """A line-of-sight magnetogram on the common grid, in HMI-equivalent Gauss.

    Attributes
    ----------
    gauss : numpy.ndarray
        ``float32 (size, size)``; 0 G off the disk and where data are missing.
    time : astropy.time.Time
        Observation time (UTC).
    instrument : str
        Key of :data:`CROSS_CALIBRATION`.
    source : str
        The file, or the name of the in-memory map.
    meta : dict-like
        Header of the source map (``T_REC``, ``QUALITY`` are copied to outputs).
    plate_scale : float
        The instrument's plate scale in arcsec per pixel as read.
    path : str
        The file ("" for a map given in memory).
    """

    gauss: np.ndarray
    time: object
    instrument: str
    source: str
    meta: dict = field(default_factory=dict)
    plate_scale: float = 0.0
    path: str = ""

    @property
    def calibration(self):
        """The :class:`CrossCalibration` applied."""
        return CROSS_CALIBRATION[self.instrument]


def _upper(meta, key):
    return str(meta.get(key, "") or "").strip().upper()


def magnetogram_instrument(meta, path="<map>"):
    """The instrument key of a magnetogram header (``"hmi"``, ...), after validation.

    Raises
    ------
    solar_euv.exceptions.InputError
        An SDO/AIA image, an HMI product other than a line-of-sight
        magnetogram, or an instrument this package does not read.
    """
    from solar_euv.sdo.io import detect_kind

    telescope, instrument = _upper(meta, "TELESCOP"), _upper(meta, "INSTRUME")
    if "HMI" in telescope or "AIA" in telescope or instrument.startswith(("HMI", "AIA")):
        kind = detect_kind(meta, path)
        if kind != "hmi":
            raise InputError(path, f"is an AIA {kind} A image, not a line-of-sight "
                                   "magnetogram (HMI, MDI or GONG)")
        return "hmi"
    raise InputError(path, "is not a line-of-sight magnetogram this package reads "
                           f"(TELESCOP={meta.get('TELESCOP')!r}, "
                           f"INSTRUME={meta.get('INSTRUME')!r}); it reads SDO/HMI")


def _sdo_image(item, size):
    """An :class:`~solar_euv.sdo.io.SDOImage` of an HMI file or map (validated)."""
    from solar_euv.sdo.io import SDOImage, check_map, read_sdo

    if isinstance(item, (str, os.PathLike)):
        image = read_sdo(item, grid_size=size)
        magnetogram_instrument(image.map.meta, image.path)
        return image
    name = _map_name(item)
    magnetogram_instrument(item.meta, name)
    check_map(item, "hmi", name)
    return SDOImage(map=item, kind="hmi", path="")


def _map_name(smap):
    return str(getattr(smap, "name", "") or type(smap).__name__).replace("/", "-")


def _plate_scale(smap):
    import astropy.units as u

    return abs(float(smap.scale[0].to_value(u.arcsec / u.pix)))


def read_magnetogram(item, size):
    """Read, validate and put a line-of-sight magnetogram on the common grid.

    Parameters
    ----------
    item : str, os.PathLike or sunpy.map.GenericMap
        A FITS file, or a map (an ``HMIMap`` or any map whose header is one
        of the instruments of :data:`CROSS_CALIBRATION`).
    size : int
        Side of the common grid.

    Returns
    -------
    Magnetogram

    Raises
    ------
    solar_euv.exceptions.InputError
        The file or map is not a usable full-disk line-of-sight magnetogram
        (one sentence naming it).
    """
    from solar_euv.sdo.io import observation_time
    from solar_euv.sdo.prep import prepare_hmi

    if not isinstance(item, (str, os.PathLike)) and getattr(item, "meta", None) is None:
        raise SolarEUVError("a magnetogram is a FITS file path or a sunpy Map; received "
                            f"{type(item).__name__}")
    image = _sdo_image(item, size)
    source = image.path or _map_name(item)
    time = observation_time(image.map.meta)
    if time is None:
        raise InputError(source, "has no readable observation time (T_OBS or DATE-OBS)")
    gauss = prepare_hmi(image, size)
    return Magnetogram(gauss=gauss, time=time, instrument="hmi", source=source,
                       meta=image.map.meta, plate_scale=_plate_scale(image.map) / image.binning,
                       path=str(pathlib.Path(image.path)) if image.path else "")


def header_cards(magnetogram):
    """FITS cards recording the input instrument and its cross-calibration.

    Returns
    -------
    dict
        ``{keyword: (value, comment)}``: ``SRCINST`` (instrument), ``SRCPLATE``
        (its plate scale), ``XCALFAC`` (factor to HMI-equivalent Gauss),
        ``XCALREF`` and, where there is one, ``XCALDOI`` (the publication).
    """
    cal = magnetogram.calibration
    cards = {
        "SRCINST": (cal.name, "instrument of the input magnetogram"),
        "SRCPLATE": (round(float(magnetogram.plate_scale), 4),
                     "[arcsec/px] plate scale of the input"),
        "XCALFAC": (cal.factor, "B_HMI = XCALFAC * B_input (LOS, Gauss)"),
        "XCALREF": (cal.reference, "source of XCALFAC"),
    }
    if cal.doi:
        cards["XCALDOI"] = (cal.doi, "DOI of XCALREF")
    return cards
