"""Line-of-sight magnetograms of any instrument on the common grid, in HMI-equivalent Gauss.

:func:`read_magnetogram` takes a FITS file or a :class:`sunpy.map.GenericMap`
and returns a :class:`Magnetogram`: the field on the common grid
(:mod:`solar_euv.scaling`), the observation time, the instrument and the
cross-calibration that made it HMI-equivalent.  Generation
(:func:`solar_euv.generate`, ``solar-euv predict``) reads every magnetogram
through it.

Instruments
-----------
``hmi``
    SDO/HMI ``hmi.M_720s`` / ``hmi.M_45s`` (validated by
    :func:`solar_euv.sdo.io.read_sdo`); factor 1.
``mdi``
    SOHO/MDI full-disk 96-minute magnetograms (``mdi.fd_M_96m_lev182``,
    1024 x 1024 at about 2"/px, 1996-2011), read by sunpy (``MDIMap``).
``gong``
    NSO/GONG full-disk line-of-sight magnetograms (860 x 860 at about
    2.5"/px, 2006 on), read by sunpy (``GONGMagnetogramMap``, whose
    ``GONGX``/``GONGY`` coordinates sunpy turns into a helioprojective WCS).

MDI and GONG are converted to HMI-equivalent Gauss with the single scaling
factors of Liu, Hoeksema, Bertello, Petrie & Pevtsov (2025), "Toward a
Consensus for Multi-Sourced Photospheric Line-of-Sight Magnetic Field
Cross-Calibration", Solar Physics 300, doi:10.1007/s11207-025-02523-y:
``B_HMI = 0.701 * B_MDI`` and ``B_HMI = 1.438 * B_GONG`` (their abstract
gives 0.701 +- 0.001 and 1.438 +- 0.000).  The paper notes that the factor
varies with centre-to-limb distance and field strength; one factor for the
whole disk is what is applied here.  Their sharper and coarser pixels are not
matched either: on a 1024 grid (about 2.5"/px) HMI's 0.5"/px pixels are
averaged 5 x 5, while MDI's and GONG's are only resampled, so their lower
resolution shows as blur, not as fewer pixels (``SRCPLATE`` in every output
header gives the input's plate scale).

Only full-disk line-of-sight magnetograms are accepted
(:mod:`solar_euv.sdo.magnetogram_kind`): MDI continuum or Dopplergrams, GONG
H-alpha or intensity images, synoptic (Carrington) maps and cutouts are
refused with one sentence naming the file.  MDI and GONG
``QUALITY`` words are copied to the output header but not judged.

The cross-calibration of every instrument is in :data:`CROSS_CALIBRATION`
and is recorded in the header of everything generated from it
(:func:`header_cards`).
"""
import os
import pathlib
import warnings
from dataclasses import dataclass, field

import numpy as np

from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.sdo.magnetogram_kind import magnetogram_instrument, magnetogram_time

__all__ = [
    "CrossCalibration",
    "CROSS_CALIBRATION",
    "Magnetogram",
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


_LIU_2025 = "Liu, Hoeksema, Bertello, Petrie, Pevtsov 2025, Sol. Phys. 300"
_LIU_2025_DOI = "10.1007/s11207-025-02523-y"

CROSS_CALIBRATION = {
    "hmi": CrossCalibration("hmi", "SDO/HMI", 1.0, "none: HMI is the reference"),
    "mdi": CrossCalibration("mdi", "SOHO/MDI", 0.701, _LIU_2025, _LIU_2025_DOI),
    "gong": CrossCalibration("gong", "NSO/GONG", 1.438, _LIU_2025, _LIU_2025_DOI),
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


def _sunpy_map(path):
    """Read a FITS file with sunpy; an unreadable one raises :class:`InputError`."""
    import sunpy.map

    from solar_euv.sdo.io import read_header

    header = read_header(path)           # refuses non-FITS and truncated files, names them
    magnetogram_instrument(header, path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            smap = sunpy.map.Map(os.fspath(path))
    except Exception as err:
        raise InputError(path, f"could not be read by sunpy ({err})",
                         category="unreadable") from None
    if isinstance(smap, list):
        smap = smap[0]
    return smap


def _observer_map(smap, name):
    """A plain helioprojective map (FITS WCS keywords) of an MDI or GONG map.

    sunpy knows each instrument's keywords (GONG's ``GONGX`` axes, its
    ``SEMIDIAM`` radius and GPS time); the copy spells the same WCS the way
    :mod:`solar_euv.sdo.prep` reads it.  Pixels beyond the limb are set
    missing so that no sky value bleeds into the disk when resampling.
    """
    import astropy.units as u
    import sunpy.map

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = smap.reference_pixel
            coord = smap.reference_coordinate
            scale = smap.scale
            observer = smap.observer_coordinate
            header = {
                "naxis1": smap.data.shape[1], "naxis2": smap.data.shape[0],
                "ctype1": "HPLN-TAN", "ctype2": "HPLT-TAN",
                "cunit1": "arcsec", "cunit2": "arcsec",
                "crpix1": float(ref.x.to_value(u.pix)) + 1.0,
                "crpix2": float(ref.y.to_value(u.pix)) + 1.0,
                "crval1": float(coord.Tx.to_value(u.arcsec)),
                "crval2": float(coord.Ty.to_value(u.arcsec)),
                "cdelt1": float(scale.axis1.to_value(u.arcsec / u.pix)),
                "cdelt2": float(scale.axis2.to_value(u.arcsec / u.pix)),
                "rsun_obs": float(smap.rsun_obs.to_value(u.arcsec)),
                "dsun_obs": float(observer.radius.to_value(u.m)),
                "hgln_obs": float(observer.lon.to_value(u.deg)),
                "hglt_obs": float(observer.lat.to_value(u.deg)),
                "date-obs": smap.date.utc.isot,
                "bunit": "G",
            }
            matrix = np.asarray(smap.rotation_matrix, dtype=float)
            for i in range(2):
                for j in range(2):
                    header[f"pc{i + 1}_{j + 1}"] = float(matrix[i, j])
            data = np.array(smap.data, dtype=np.float32)
            plain = sunpy.map.Map(data, header)
    except Exception as err:
        raise InputError(name, f"has no usable helioprojective WCS ({err})",
                         category="header") from None
    from solar_euv.sdo.io import check_full_disk

    check_full_disk(plain, name)
    plain.data[_beyond_limb(plain)] = np.nan
    if not np.isfinite(plain.data).any():
        raise InputError(name, "holds no finite pixel on the disk (all NaN or BLANK)",
                         category="damaged")
    return plain


def _beyond_limb(smap):
    """Boolean image: True for pixels farther than the solar radius from the disk centre."""
    from solar_euv.sdo.headers import _disk_centre_pixel

    cx, cy = _disk_centre_pixel(smap.meta)
    radius = float(smap.meta["rsun_obs"]) / abs(float(smap.meta["cdelt1"]))
    yy, xx = np.indices(smap.data.shape)
    return np.hypot(xx - cx, yy - cy) > radius


def _other_image(item, size, instrument):
    """An :class:`~solar_euv.sdo.io.SDOImage` (magnetogram channel) of an MDI or GONG map."""
    from solar_euv.sdo.io import SDOImage

    path = os.fspath(item) if isinstance(item, (str, os.PathLike)) else ""
    smap = _sunpy_map(path) if path else item
    name = path or _map_name(smap)
    time = _time_of(smap, name)
    return SDOImage(map=_observer_map(smap, name), kind="hmi", path=path), smap, time


def _time_of(smap, name):
    time = magnetogram_time(smap.meta)
    if time is None:
        raise InputError(name, "has no readable observation time (T_OBS or DATE-OBS)",
                         category="header")
    return time


def _instrument_of(item):
    if isinstance(item, (str, os.PathLike)):
        from solar_euv.sdo.io import read_header

        return magnetogram_instrument(read_header(item), os.fspath(item))
    return magnetogram_instrument(item.meta, _map_name(item))


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
    from solar_euv.sdo.prep import prepare_hmi

    if not isinstance(item, (str, os.PathLike)) and getattr(item, "meta", None) is None:
        raise SolarEUVError("a magnetogram is a FITS file path or a sunpy Map; received "
                            f"{type(item).__name__}")
    instrument = _instrument_of(item)
    if instrument == "hmi":
        image = _sdo_image(item, size)
        source_map, time = image.map, _time_of(image.map, image.path or _map_name(item))
    else:
        image, source_map, time = _other_image(item, size, instrument)
    source = image.path or _map_name(item)
    gauss = prepare_hmi(image, size)
    factor = CROSS_CALIBRATION[instrument].factor
    if factor != 1.0:
        gauss *= np.float32(factor)
    return Magnetogram(gauss=gauss, time=time, instrument=instrument, source=source,
                       meta=source_map.meta, plate_scale=_plate_scale(image.map) / image.binning,
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
