"""What an SDO FITS header says, checked without the pixels.

The product (:func:`detect_kind`: an HMI line-of-sight magnetogram or an AIA
passband this package models), the observation time
(:func:`observation_time`), the keywords needed to place the image on the
common grid (:data:`REQUIRED_KEYWORDS`, :data:`NUMERIC_KEYWORDS`), the
``QUALITY`` word (:mod:`solar_euv.sdo.quality`) and the full disk
(:func:`check_full_disk`), together in :func:`validate_header`.  Each problem
raises :class:`~solar_euv.exceptions.InputError`, one sentence naming the
file, with a category (``product``, ``header``, ``cutout``, ``QUALITY``).
"""
import numpy as np

from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.passbands import get_passband
from solar_euv.sdo.quality import check_quality

__all__ = [
    "REQUIRED_KEYWORDS",
    "NUMERIC_KEYWORDS",
    "observation_time",
    "detect_kind",
    "validate_header",
    "check_full_disk",
]

# Keywords every SDO file needs to be placed on the common grid.
REQUIRED_KEYWORDS = {
    "common": ("DATE-OBS|T_OBS", "CDELT1", "CDELT2", "CRPIX1", "CRPIX2",
               "CRVAL1", "CRVAL2", "RSUN_OBS|DSUN_OBS", "CROTA2|PC1_1"),
    "aia": ("WAVELNTH", "EXPTIME"),
    "hmi": (),
}
"""Required keywords by instrument; ``A|B`` means either of them."""

_HMI_MAGNETOGRAM_CONTENT = "MAGNETOGRAM"


def observation_time(header):
    """Observation time of a FITS header or map meta, as UTC :class:`~astropy.time.Time`.

    ``T_OBS`` (mid-exposure; HMI writes it in TAI as ``2014.01.01_00:00:00_TAI``)
    is preferred, then ``DATE-OBS``.  Returns None when neither is readable.
    """
    return _observation_time(header)


def _observation_time(meta):
    from astropy.time import Time

    for key in ("t_obs", "date-obs", "date_obs"):
        value = meta.get(key)
        if value:
            text = str(value).strip()
            scale = "utc"
            if text.endswith("_TAI"):
                text, scale = text[:-4], "tai"
            text = text.rstrip("Z").replace("_", "T")
            if "." in text[:10]:
                text = text[:10].replace(".", "-") + text[10:]
            try:
                return Time(text, scale=scale).utc
            except ValueError:
                continue
    return None


# Keywords that, when present, must be finite real numbers (not text, not T/F).
NUMERIC_KEYWORDS = ("CDELT1", "CDELT2", "CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2", "CROTA2",
                    "PC1_1", "PC1_2", "PC2_1", "PC2_2", "RSUN_OBS", "DSUN_OBS", "RSUN_REF",
                    "R_SUN", "BSCALE", "BZERO", "EXPTIME", "WAVELNTH")


def _check_cards(header, path):
    """Refuse a header with an unparsable card or a non-numeric WCS/scaling value."""
    for card in header.cards:
        try:
            card.value
        except Exception:
            raise InputError(path, f"has an unparsable header card {card.keyword or '(blank)'}: "
                                   f"{str(card.image).strip()!r}", category="header") from None
    for name in NUMERIC_KEYWORDS:
        value = header.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)) \
                or (isinstance(value, int) and abs(value) >= 2 ** 63) \
                or not np.isfinite(float(value)):
            raise InputError(path, f"has an unusable value {name}={value!r} "
                                   "(a finite number is required)", category="header")


def _header_rsun_obs(header):
    """Apparent solar radius in arcsec from RSUN_OBS, or RSUN_REF / DSUN_OBS."""
    value = header.get("RSUN_OBS")
    if value not in (None, ""):
        return float(value)
    rsun_ref = float(header.get("RSUN_REF", 695700000.0) or 695700000.0)
    return float(np.degrees(np.arcsin(rsun_ref / float(header["DSUN_OBS"]))) * 3600.0)


def detect_kind(header, path="<header>"):
    """``"hmi"`` or the AIA passband name for a FITS header, after validation.

    Raises
    ------
    solar_euv.exceptions.InputError
        Neither HMI nor AIA, an HMI product other than a line-of-sight
        magnetogram, a dark AIA frame, or an unknown AIA passband.
    """
    telescope = str(header.get("TELESCOP", "")).strip().upper()
    instrument = str(header.get("INSTRUME", "")).strip().upper()
    if "HMI" in telescope or instrument.startswith("HMI"):
        content = str(header.get("CONTENT", "")).strip().upper()
        bunit = str(header.get("BUNIT", "")).strip().lower()
        if content:
            if _HMI_MAGNETOGRAM_CONTENT not in content or "VECTOR" in content:
                raise InputError(path, f"is an HMI {content.lower()} image (CONTENT="
                                       f"{header.get('CONTENT')!r}), not a line-of-sight "
                                       "magnetogram (hmi.M_720s or hmi.M_45s)", category="product")
        elif bunit not in ("gauss", "g", "mx/cm^2", "mx/cm2"):
            raise InputError(path, "is an HMI file that is not a line-of-sight magnetogram "
                                   "(no CONTENT keyword and BUNIT is "
                                   f"{header.get('BUNIT')!r}, not Gauss)", category="product")
        return "hmi"
    if "AIA" in telescope or instrument.startswith("AIA"):
        if str(header.get("IMG_TYPE", "LIGHT")).strip().upper() == "DARK":
            raise InputError(path, "is an AIA dark frame (IMG_TYPE='DARK'), not an image "
                                   "of the Sun", category="product")
        wavelength = header.get("WAVELNTH")
        if wavelength is None:
            raise InputError(path, "is missing the required keyword WAVELNTH "
                                   "(the AIA passband)", category="header")
        try:
            return get_passband(f"{float(wavelength):.0f}").name
        except (SolarEUVError, ValueError):
            raise InputError(path, f"has the unknown AIA passband WAVELNTH={wavelength!r}; "
                                   "this package models 94, 131, 171, 193, 211, 304, 335, "
                                   "1600 and 1700 A", category="product") from None
    raise InputError(path, "is neither an SDO/HMI magnetogram nor an SDO/AIA image "
                           f"(TELESCOP={header.get('TELESCOP')!r}, "
                           f"INSTRUME={header.get('INSTRUME')!r})", category="product")


def _check_keywords(header, kind, path):
    needed = REQUIRED_KEYWORDS["common"] + REQUIRED_KEYWORDS["hmi" if kind == "hmi" else "aia"]
    for entry in needed:
        names = entry.split("|")
        present = False
        for name in names:
            value = header.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            present = True
        if not present:
            which = " or ".join(names)
            raise InputError(path, f"is missing the required keyword {which}", category="header")
    if kind != "hmi":
        exptime = header.get("EXPTIME")
        try:
            ok = float(exptime) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(path, f"has an unusable exposure time EXPTIME={exptime!r}",
                             category="header")
    for name in ("CDELT1", "CDELT2"):
        try:
            ok = float(header[name]) != 0 and np.isfinite(float(header[name]))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(path, f"has an unusable plate scale {name}={header[name]!r}",
                             category="header")


def validate_header(header, path="<header>"):
    """Everything that can be checked without the pixels, in one call.

    The product (:func:`detect_kind`), the required keywords, the
    ``QUALITY`` word (:func:`solar_euv.sdo.quality.check_quality`) and the
    full disk (:func:`check_full_disk`): a batch uses it to set unusable
    files aside before pairing them, :func:`read_sdo` before reading data.

    Parameters
    ----------
    header : astropy.io.fits.Header
        Header of the image HDU (:func:`read_header`).
    path : str
        The file, named in messages.

    Returns
    -------
    kind : str
        ``"hmi"`` or the AIA passband name.
    quality_note : str or None
        Warning text for QUALITY bits that deserve one.

    Raises
    ------
    solar_euv.exceptions.InputError
        For the first problem found.
    """
    kind = detect_kind(header, path)
    _check_keywords(header, kind, path)
    quality_note = check_quality(header, kind, path)
    try:
        check_full_disk(header, path)
    except (ArithmeticError, ValueError, TypeError, KeyError, np.linalg.LinAlgError) as err:
        raise InputError(path, f"has WCS keywords that do not place the solar disk ({err})",
                         category="header") from None
    return kind, quality_note


def check_full_disk(image, path="<map>", margin=0.02):
    """Refuse a cutout: the whole solar disk must lie inside the image.

    The disk centre (world point 0", 0") and radius (``RSUN_OBS`` over the
    plate scale) are taken from the header's WCS keywords; every limb point
    must fall within the image, allowing ``margin`` of the radius for
    pointing jitter.

    Parameters
    ----------
    image : sunpy.map.GenericMap or astropy.io.fits.Header
        A map, or the header of a file (``NAXIS1``, ``NAXIS2`` give the
        image size): the check needs no pixel data.
    path : str
        The file, named in the message.
    margin : float
        Allowed overhang as a fraction of the radius.

    Raises
    ------
    solar_euv.exceptions.InputError
        If part of the disk lies outside the image (category ``"cutout"``).
    """
    meta = getattr(image, "meta", image)
    if hasattr(image, "data"):
        ny, nx = image.data.shape
    else:
        ny, nx = int(meta["NAXIS2"]), int(meta["NAXIS1"])
    scale = abs(float(meta["cdelt1"]))
    radius = _header_rsun_obs(meta) / scale
    cx, cy = _disk_centre_pixel(meta)
    slack = margin * radius
    if (cx - radius < -0.5 - slack or cx + radius > nx - 0.5 + slack
            or cy - radius < -0.5 - slack or cy + radius > ny - 0.5 + slack):
        raise InputError(path, f"is a cutout or partial field of view ({nx}x{ny} px with the "
                               f"disk centre at pixel ({cx:.0f}, {cy:.0f}) and radius "
                               f"{radius:.0f} px), not a full-disk image", category="cutout")


def _rotation_matrix(meta):
    """The ``PCi_j`` matrix of a header, from ``PCi_j`` or else ``CROTA2``.

    As :attr:`sunpy.map.GenericMap.rotation_matrix` reads it: with no
    ``PCi_j`` keywords, ``CROTA2`` (degrees, 0 when absent) and the ratio
    ``lam = CDELT2 / CDELT1`` give ``[[cos, -lam sin], [sin / lam, cos]]``.
    """
    if meta.get("PC1_1") is not None:
        return np.array([[float(meta.get("PC1_1", 1.0)), float(meta.get("PC1_2", 0.0))],
                         [float(meta.get("PC2_1", 0.0)), float(meta.get("PC2_2", 1.0))]])
    lam = float(meta["cdelt2"]) / float(meta["cdelt1"])
    p = np.deg2rad(float(meta.get("CROTA2", 0.0) or 0.0))
    return np.array([[np.cos(p), -lam * np.sin(p)], [np.sin(p) / lam, np.cos(p)]])


def _disk_centre_pixel(meta):
    """0-based pixel (x, y) of the disk centre from the FITS WCS keywords.

    Linear WCS: ``world - CRVAL = CDELT * PC @ (pixel - (CRPIX - 1))``
    solved for world (0, 0).
    """
    crpix = np.array([float(meta["crpix1"]), float(meta["crpix2"])]) - 1.0
    crval = np.array([float(meta["crval1"]), float(meta["crval2"])])
    cdelt = np.array([float(meta["cdelt1"]), float(meta["cdelt2"])])
    offset = np.linalg.solve(_rotation_matrix(meta), (-crval) / cdelt)
    x, y = crpix + offset
    return float(x), float(y)
