"""Which instrument a magnetogram header comes from, and when it was observed.

:func:`magnetogram_instrument` validates a header as a full-disk
line-of-sight magnetogram of SDO/HMI, SOHO/MDI or NSO/GONG (anything else
is refused with one sentence naming the file); :func:`magnetogram_time`
reads its observation time (GONG's GPS time of day included); :func:`is_sdo`
tells SDO headers, read by :func:`solar_euv.sdo.io.read_sdo`, from the
others.  :mod:`solar_euv.sdo.magnetograms` reads the data.
"""
from solar_euv.exceptions import InputError

__all__ = ["magnetogram_instrument", "magnetogram_time", "is_sdo"]


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
    if is_sdo(meta):
        kind = detect_kind(meta, path)
        if kind != "hmi":
            raise InputError(path, f"is an AIA {kind} A image, not a line-of-sight "
                                   "magnetogram (HMI, MDI or GONG)", category="product")
        return "hmi"
    if _is_synoptic(meta):
        raise InputError(path, f"is a synoptic (Carrington) map (CTYPE1="
                               f"{meta.get('CTYPE1')!r}), not a full-disk magnetogram",
                         category="product")
    content = _upper(meta, "CONTENT")
    if "MDI" in instrument or "MDI" in _upper(meta, "CAMERA") \
            or (telescope == "SOHO" and "MDI" in content):
        if ("MAGNETOGRAM" not in content if content
                else _upper(meta, "BUNIT") not in ("GAUSS", "G")):
            raise InputError(path, "is an MDI image that is not a line-of-sight magnetogram "
                                   f"(CONTENT={meta.get('CONTENT')!r}, BUNIT="
                                   f"{meta.get('BUNIT')!r}); full-disk magnetograms are "
                                   "mdi.fd_M_96m_lev182", category="product")
        return "mdi"
    if telescope.endswith("GONG"):
        imtype = _upper(meta, "IMTYPE")
        if imtype != "MAGNETIC":
            raise InputError(path, f"is a GONG {imtype.lower() or 'image'} image (IMTYPE="
                                   f"{meta.get('IMTYPE')!r}), not a line-of-sight "
                                   "magnetogram (IMTYPE='MAGNETIC')", category="product")
        return "gong"
    raise InputError(path, "is not a line-of-sight magnetogram this package reads "
                           f"(TELESCOP={meta.get('TELESCOP')!r}, "
                           f"INSTRUME={meta.get('INSTRUME')!r}); it reads SDO/HMI, "
                           "SOHO/MDI and NSO/GONG", category="product")


def is_sdo(meta):
    """True for an SDO (HMI or AIA) header, read by :func:`solar_euv.sdo.io.read_sdo`."""
    telescope, instrument = _upper(meta, "TELESCOP"), _upper(meta, "INSTRUME")
    return ("HMI" in telescope or "AIA" in telescope
            or instrument.startswith(("HMI", "AIA")))


def magnetogram_time(meta):
    """Observation time (UTC) of a magnetogram header; None when unreadable.

    GONG writes the date and the GPS time of day in ``DATE-OBS`` and
    ``TIME-OBS`` (GPS = TAI - 19 s, as sunpy's ``GONGMagnetogramMap``
    reads them); the others are read by
    :func:`solar_euv.sdo.io.observation_time`.
    """
    import astropy.units as u
    from astropy.time import Time

    from solar_euv.sdo.io import observation_time

    if _upper(meta, "TELESCOP").endswith("GONG") and meta.get("TIME-OBS"):
        text = f"{str(meta['DATE-OBS']).strip().replace('/', '-')}T{str(meta['TIME-OBS']).strip()}"
        try:
            return (Time(text, scale="tai") + 19 * u.s).utc
        except ValueError:
            return None
    return observation_time(meta)


def _is_synoptic(meta):
    return _upper(meta, "CTYPE1").startswith(("CRLN", "HGLN", "LON"))
