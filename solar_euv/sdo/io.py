"""Read and validate SDO/HMI magnetograms and SDO/AIA images into sunpy Maps.

Accepted inputs
---------------
* HMI line-of-sight magnetograms (``hmi.M_720s``, ``hmi.M_45s``), level 1.5
  as JSOC serves them (RICE-compressed image in HDU 1, HDU 0 empty) or
  uncompressed.
* AIA level-1 images (``aia.lev1_euv_12s``, ``aia.lev1_uv_24s``) and level-1.5
  images (registered, such as the AIA synoptic product), plain or
  RICE-compressed, in any HDU.

Every file is checked before it is used; a problem raises
:class:`~solar_euv.exceptions.InputError` whose message is one sentence
naming the file and the problem:

* not a FITS file, or a truncated FITS file;
* no image HDU, or an image that is not 2-D;
* neither SDO/HMI nor SDO/AIA (``TELESCOP`` / ``INSTRUME``);
* an HMI product other than a magnetogram (continuum, Dopplergram, ...);
* an AIA passband this package does not model (e.g. 4500 A), or a dark frame;
* a required keyword missing (see :data:`REQUIRED_KEYWORDS`);
* a cutout or partial field of view: the whole solar disk must lie in the
  image (see :func:`check_full_disk`);
* no finite pixel (all NaN or all BLANK);
* a fatal ``QUALITY`` bit (see :data:`AIA_FATAL_QUALITY_BITS` and
  :data:`HMI_FATAL_QUALITY_BITS`).

QUALITY is judged bit by bit.  AIA (level-1 QUALITY word): bit 30
(``0x40000000``, near-real-time / quick-look data), the routinely set
limb-fit bit 4 and bit 7 (a few pixels missing) are harmless; bits 0-3
(flat field, orbit, ancillary or master pointing data missing), 8-10 (more
than 1 % of the pixels missing),
11-17 (not in science pointing, eclipse, no Sun presence, safe mode, dark
image, ISS loop open, calibration/non-standard sequence), 19 (focus out of
range) and 31 (no image) are fatal; any other set bit gives a
:class:`~solar_euv.exceptions.SolarEUVWarning`.  HMI (level-1.5 observables
QUALITY word): bits 16-31 mean that no valid observable was produced and are
fatal, except ``0x40000000``, which HMI defines as "target filtergram
missing" but which is also AIA's near-real-time flag: an HMI image carrying
it alone still has to contain data, and only warns.  Lower HMI bits warn.

NaN handling: pixels that are NaN or equal to ``BLANK`` are NaN in the
returned map (HMI leaves off-disk pixels NaN); :mod:`solar_euv.sdo.prep`
treats them as missing.  A file without any finite pixel is refused.
"""
import os
import pathlib
import warnings
from dataclasses import dataclass

import numpy as np
from astropy.io import fits

from solar_euv.exceptions import InputError, SolarEUVError, SolarEUVWarning
from solar_euv.passbands import get_passband

__all__ = [
    "SDOImage",
    "read_sdo",
    "read_hmi",
    "read_aia",
    "read_header",
    "block_mean",
    "bin_factor",
    "detect_kind",
    "observation_time",
    "check_full_disk",
    "check_map",
    "quality_problems",
    "REQUIRED_KEYWORDS",
    "NUMERIC_KEYWORDS",
    "AIA_FATAL_QUALITY_BITS",
    "AIA_BENIGN_QUALITY_BITS",
    "HMI_FATAL_QUALITY_BITS",
    "NEAR_REAL_TIME_BIT",
]

NEAR_REAL_TIME_BIT = 0x40000000
"""AIA QUALITY bit 30: near-real-time (quick-look) data; not a defect."""

AIA_FATAL_QUALITY_BITS = {
    0: "flat field not available",
    1: "orbit data not available",
    2: "ancillary science data not available",
    3: "master pointing data not available",
    8: "more than 1 % of the pixels missing",
    9: "more than 5 % of the pixels missing",
    10: "more than 25 % of the pixels missing",
    11: "spacecraft not in science pointing mode",
    12: "spacecraft eclipse",
    13: "Sun presence flag not set",
    14: "spacecraft in safe mode",
    15: "dark image",
    16: "image stabilisation loop open",
    17: "calibration or non-standard image sequence",
    19: "focus out of range",
    31: "image not available",
}
"""AIA level-1 QUALITY bits that make an image unusable (bit -> meaning)."""

AIA_BENIGN_QUALITY_BITS = {
    4: "limb fit not available",
    7: "a few pixels missing",
    30: "near-real-time data",
}
"""AIA level-1 QUALITY bits accepted silently."""

HMI_FATAL_QUALITY_BITS = {
    31: "no observable produced",
    29: "keywords could not be interpolated",
    28: "no observables framelist",
    27: "wrong cadence",
    26: "wrong target filtergram",
    25: "not enough level-1d filtergrams",
    24: "level-1d keywords missing",
    23: "wrong number of wavelengths",
    22: "level-1p keywords missing",
    21: "level-1p image could not be produced",
    20: "keywords missing in level 1",
    19: "level-1 data missing",
    18: "level-1 data corrupt",
    17: "observables could not be computed",
    16: "observables could not be computed",
}
"""HMI level-1.5 QUALITY bits that make a magnetogram unusable (bit -> meaning)."""

# Keywords every SDO file needs to be placed on the common grid.
REQUIRED_KEYWORDS = {
    "common": ("DATE-OBS|T_OBS", "CDELT1", "CDELT2", "CRPIX1", "CRPIX2",
               "CRVAL1", "CRVAL2", "RSUN_OBS|DSUN_OBS", "CROTA2|PC1_1"),
    "aia": ("WAVELNTH", "EXPTIME"),
    "hmi": (),
}
"""Required keywords by instrument; ``A|B`` means either of them."""

_HMI_MAGNETOGRAM_CONTENT = "MAGNETOGRAM"


@dataclass(frozen=True)
class SDOImage:
    """A validated SDO image.

    Attributes
    ----------
    map : sunpy.map.GenericMap
        The image (an ``HMIMap`` or ``AIAMap``), NaN where data are missing.
    kind : str
        ``"hmi"`` for a magnetogram, else the AIA passband name (``"171"``).
    path : str
        The file it came from.
    binning : int
        Block size averaged on reading (1: full resolution).
    """

    map: object
    kind: str
    path: str
    binning: int = 1

    @property
    def is_hmi(self):
        """True for an HMI magnetogram."""
        return self.kind == "hmi"

    @property
    def level(self):
        """Processing level (``LVL_NUM``; HMI magnetograms are 1.5)."""
        value = self.map.meta.get("lvl_num")
        if value is None:
            return 1.5 if self.is_hmi else 1.0
        return float(value)

    @property
    def time(self):
        """Observation time as an :class:`astropy.time.Time` (UTC)."""
        return _observation_time(self.map.meta)


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


def _precheck(path):
    try:
        with open(path, "rb") as fh:
            start = fh.read(30)
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a FITS file") from None
    except FileNotFoundError:
        raise InputError(path, "does not exist") from None
    except OSError as err:
        raise InputError(path, f"cannot be read ({err.strerror})") from None
    if start.startswith(b"\x1f\x8b"):
        return                     # gzip-compressed FITS: astropy checks it when reading
    if not start.startswith(b"SIMPLE  =") and not start.startswith(b"SIMPLE="):
        raise InputError(path, "is not a FITS file (no SIMPLE card at the start)")
    size = os.path.getsize(path)
    if size % 2880:
        raise InputError(path, f"is a truncated FITS file ({size} bytes, not a whole "
                               "number of 2880-byte FITS blocks)")


def _is_truncation(err):
    text = str(err).lower()
    return any(w in text for w in ("truncat", "buffer is too small", "eof", "smaller than",
                                   "cannot reshape", "not enough"))


def _image_hdu(hdul, path):
    for hdu in hdul:
        if not getattr(hdu, "is_image", False) or not hdu.header.get("NAXIS", 0):
            continue
        naxis = hdu.header.get("NAXIS")
        if naxis != 2:
            raise InputError(path, f"holds a {naxis}-D image, not a 2-D SDO image")
        _check_cards(hdu.header, path)
        return hdu
    raise InputError(path, "holds no image (every HDU is empty)")


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
                                   f"{str(card.image).strip()!r}") from None
    for name in NUMERIC_KEYWORDS:
        value = header.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)) \
                or (isinstance(value, int) and abs(value) >= 2 ** 63) \
                or not np.isfinite(float(value)):
            raise InputError(path, f"has an unusable value {name}={value!r} "
                                   "(a finite number is required)")


def _block_sum(a, k):
    """Sum over ``k x k`` blocks in float32 (strided adds: fast and exact enough)."""
    if k == 1:
        return a.astype(np.float32)
    if a.dtype.itemsize > 2 and a.dtype != np.float32:
        a = a.astype(np.float32)      # one contiguous conversion beats k strided ones
    s = a[:, 0::k].astype(np.float32)
    for i in range(1, k):
        s += a[:, i::k]
    out = s[0::k].copy()
    for i in range(1, k):
        out += s[i::k]
    return out


def _block_count(mask, k):
    """Number of True pixels per ``k x k`` block (float32); uint8 adds when they fit."""
    if k * k > 255:
        return _block_sum(mask.view(np.uint8), k)
    m = mask.view(np.uint8)
    s = m[:, 0::k].copy()
    for i in range(1, k):
        s += m[:, i::k]
    out = s[0::k].copy()
    for i in range(1, k):
        out += s[i::k]
    return out.astype(np.float32)


def block_mean(raw, k, *, bscale=1.0, bzero=0.0, blank=None):
    """Average ``k x k`` blocks of an image, ignoring missing pixels.

    Parameters
    ----------
    raw : numpy.ndarray
        2-D image, integer (stored values) or float.
    k : int
        Block size; rows and columns beyond a multiple of ``k`` are dropped
        (the origin is kept: block ``q`` covers pixels ``k q .. k q + k - 1``,
        centred on ``k q + (k - 1) / 2``).
    bscale, bzero : float
        FITS scaling applied after averaging (it commutes with the mean).
    blank : int or None
        Stored value of missing integer pixels (FITS ``BLANK``); NaN marks
        missing float pixels.

    Returns
    -------
    numpy.ndarray or None
        ``float32`` block means, NaN for blocks without any valid pixel;
        None when no pixel at all is valid.

    Notes
    -----
    Missing pixels of ``raw`` are overwritten with 0 in place (``raw`` is
    treated as scratch; pass a copy to keep it).
    """
    k = int(k)
    ny, nx = (raw.shape[0] // k) * k, (raw.shape[1] // k) * k
    a = raw[:ny, :nx]
    if a.dtype.kind in "iu":
        invalid = None if blank is None else (a == blank)
    else:
        invalid = ~np.isfinite(a)
    if invalid is not None and not invalid.any():
        invalid = None
    if invalid is not None and invalid.all():
        return None
    if invalid is None:
        mean = _block_sum(a, k)
        if k > 1:
            mean *= np.float32(1.0 / (k * k))
    else:
        a = a.copy() if not a.flags.writeable else a
        np.copyto(a, 0, where=invalid)   # in place: the caller's array is scratch
        total = _block_sum(a, k)
        count = np.float32(k * k) - _block_count(invalid, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
        mean[count == 0] = np.nan
    if bscale != 1.0 or bzero != 0.0:
        mean *= np.float32(bscale)
        mean += np.float32(bzero)
    return mean


def bin_factor(input_scale, output_scale):
    """Integer block size for averaging before the warp (at least 1).

    The nearest integer to ``output_scale / input_scale``: 4 for AIA at
    0.6"/px and 5 for HMI at 0.504"/px going to 1024 (about 2.45"/px).
    """
    ratio = float(output_scale) / float(input_scale)
    return max(1, int(np.floor(ratio + 0.5)))


def _header_rsun_obs(header):
    """Apparent solar radius in arcsec from RSUN_OBS, or RSUN_REF / DSUN_OBS."""
    value = header.get("RSUN_OBS")
    if value not in (None, ""):
        return float(value)
    rsun_ref = float(header.get("RSUN_REF", 695700000.0) or 695700000.0)
    return float(np.degrees(np.arcsin(rsun_ref / float(header["DSUN_OBS"]))) * 3600.0)


def _binned_header(header, k, shape):
    header = header.copy()
    for card in ("BSCALE", "BZERO", "BLANK", "ZBLANK", "CHECKSUM", "DATASUM"):
        if card in header:
            del header[card]
    header["NAXIS1"], header["NAXIS2"] = shape[1], shape[0]
    if k == 1:
        return header
    for axis in (1, 2):
        header[f"CDELT{axis}"] = float(header[f"CDELT{axis}"]) * k
        # full-res 0-based p = k q + (k - 1) / 2  =>  CRPIX' = (CRPIX - 0.5) / k + 0.5
        header[f"CRPIX{axis}"] = (float(header[f"CRPIX{axis}"]) - 0.5) / k + 0.5
    if header.get("R_SUN") not in (None, ""):
        header["R_SUN"] = float(header["R_SUN"]) / k
    header["HISTORY"] = f"solar_euv: averaged {k}x{k} blocks on reading"
    return header


def read_header(path):
    """Header of the image HDU of an SDO FITS file, without reading the data.

    Used by pairing code that only needs times and kinds.  Raises
    :class:`~solar_euv.exceptions.InputError` for a file that is not FITS.
    """
    path = os.fspath(path)
    _precheck(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path, memmap=False, lazy_load_hdus=True) as hdul:
                return _image_hdu(hdul, path).header.copy()
    except InputError:
        raise
    except Exception as err:
        if _is_truncation(err):
            raise InputError(path, "is a truncated FITS file") from None
        raise InputError(path, f"is not a readable FITS file ({err})") from None


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
                                       "magnetogram (hmi.M_720s or hmi.M_45s)")
        elif bunit not in ("gauss", "g", "mx/cm^2", "mx/cm2"):
            raise InputError(path, "is an HMI file that is not a line-of-sight magnetogram "
                                   "(no CONTENT keyword and BUNIT is "
                                   f"{header.get('BUNIT')!r}, not Gauss)")
        return "hmi"
    if "AIA" in telescope or instrument.startswith("AIA"):
        if str(header.get("IMG_TYPE", "LIGHT")).strip().upper() == "DARK":
            raise InputError(path, "is an AIA dark frame (IMG_TYPE='DARK'), not an image "
                                   "of the Sun")
        wavelength = header.get("WAVELNTH")
        if wavelength is None:
            raise InputError(path, "is missing the required keyword WAVELNTH "
                                   "(the AIA passband)")
        try:
            return get_passband(f"{float(wavelength):.0f}").name
        except (SolarEUVError, ValueError):
            raise InputError(path, f"has the unknown AIA passband WAVELNTH={wavelength!r}; "
                                   "this package models 94, 131, 171, 193, 211, 304, 335, "
                                   "1600 and 1700 A") from None
    raise InputError(path, "is neither an SDO/HMI magnetogram nor an SDO/AIA image "
                           f"(TELESCOP={header.get('TELESCOP')!r}, "
                           f"INSTRUME={header.get('INSTRUME')!r})")


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
            raise InputError(path, f"is missing the required keyword {which}")
    if kind != "hmi":
        exptime = header.get("EXPTIME")
        try:
            ok = float(exptime) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(path, f"has an unusable exposure time EXPTIME={exptime!r}")
    for name in ("CDELT1", "CDELT2"):
        try:
            ok = float(header[name]) != 0 and np.isfinite(float(header[name]))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(path, f"has an unusable plate scale {name}={header[name]!r}")


def quality_problems(quality, kind):
    """Split a QUALITY word into fatal and non-fatal findings.

    Parameters
    ----------
    quality : int
        The ``QUALITY`` keyword.
    kind : str
        ``"hmi"`` or an AIA passband name.

    Returns
    -------
    fatal, warn : list of str
        Descriptions (``"bit 12 (spacecraft eclipse)"``) of the set bits that
        make the image unusable, and of those that only deserve a warning.
    """
    quality = int(quality) & 0xFFFFFFFF
    fatal, warn = [], []
    for bit in range(32):
        if not quality & (1 << bit):
            continue
        if kind == "hmi":
            if bit == 30:
                warn.append("bit 30 (HMI: target filtergram missing)")
            elif bit in HMI_FATAL_QUALITY_BITS:
                fatal.append(f"bit {bit} ({HMI_FATAL_QUALITY_BITS[bit]})")
            else:
                warn.append(f"bit {bit}")
        else:
            if bit in AIA_FATAL_QUALITY_BITS:
                fatal.append(f"bit {bit} ({AIA_FATAL_QUALITY_BITS[bit]})")
            elif bit not in AIA_BENIGN_QUALITY_BITS:
                warn.append(f"bit {bit}")
    return fatal, warn


def _check_quality(header, kind, path):
    quality = header.get("QUALITY", 0)
    try:
        quality = int(quality)
    except (TypeError, ValueError):
        raise InputError(path, f"has an unreadable QUALITY keyword {quality!r}") from None
    fatal, warn = quality_problems(quality, kind)
    if fatal:
        raise InputError(path, f"is flagged unusable by QUALITY=0x{quality & 0xFFFFFFFF:08X}: "
                               + ", ".join(fatal))
    if warn:
        return (f"{path}: QUALITY=0x{quality & 0xFFFFFFFF:08X} has "
                + ", ".join(warn) + " set; using the image anyway")
    return None


def check_full_disk(smap, path="<map>", margin=0.02):
    """Refuse a cutout: the whole solar disk must lie inside the image.

    The disk centre (world point 0", 0") and radius (``rsun_obs`` over the
    plate scale) are taken from the header; every limb point must fall
    within the image, allowing ``margin`` of the radius for pointing jitter.

    Raises
    ------
    solar_euv.exceptions.InputError
        If part of the disk lies outside the image.
    """
    import astropy.units as u

    ny, nx = smap.data.shape
    scale = abs(float(smap.scale[0].to_value(u.arcsec / u.pix)))
    radius = float(smap.rsun_obs.to_value(u.arcsec)) / scale
    cx, cy = _disk_centre_pixel(smap)
    slack = margin * radius
    if (cx - radius < -0.5 - slack or cx + radius > nx - 0.5 + slack
            or cy - radius < -0.5 - slack or cy + radius > ny - 0.5 + slack):
        raise InputError(path, f"is a cutout or partial field of view ({nx}x{ny} px with the "
                               f"disk centre at pixel ({cx:.0f}, {cy:.0f}) and radius "
                               f"{radius:.0f} px), not a full-disk image")


def check_map(smap, kind, name="<map>"):
    """Validate an in-memory map as :func:`read_sdo` validates a file.

    Parameters
    ----------
    smap : sunpy.map.GenericMap
    kind : str
        The kind the caller needs (``"hmi"`` or an AIA passband name).
    name : str
        How to name the map in messages.

    Raises
    ------
    solar_euv.exceptions.InputError
        Another kind of image, a missing keyword, a fatal ``QUALITY``, no
        finite pixel, or a cutout.
    """
    header = smap.meta
    found = detect_kind(header, name)
    if found != kind:
        what = "an HMI magnetogram" if found == "hmi" else f"an AIA {found} A image"
        raise InputError(name, f"is {what}, not the {kind} image needed here")
    _check_keywords(header, kind, name)
    note = _check_quality(header, kind, name)
    if note:
        warnings.warn(note, SolarEUVWarning, stacklevel=2)
    if not np.isfinite(np.asarray(smap.data)).any():
        raise InputError(name, "holds no finite pixel (all NaN or BLANK)")
    check_full_disk(smap, name)


def _disk_centre_pixel(smap):
    """0-based pixel (x, y) of the disk centre from the FITS WCS keywords.

    Linear WCS: ``world - CRVAL = CDELT * PC @ (pixel - (CRPIX - 1))``
    solved for world (0, 0).
    """
    meta = smap.meta
    crpix = np.array([float(meta["crpix1"]), float(meta["crpix2"])]) - 1.0
    crval = np.array([float(meta["crval1"]), float(meta["crval2"])])
    cdelt = np.array([float(meta["cdelt1"]), float(meta["cdelt2"])])
    pc = np.asarray(smap.rotation_matrix, dtype=float)
    offset = np.linalg.solve(pc, (-crval) / cdelt)
    x, y = crpix + offset
    return float(x), float(y)


def read_sdo(path, *, grid_size=None):
    """Read and validate an SDO/HMI magnetogram or SDO/AIA image.

    Parameters
    ----------
    path : str or os.PathLike
        A FITS file (plain or RICE-compressed, image in any HDU).
    grid_size : int or None
        None reads the image at full resolution.  Given the side ``N`` of
        the common grid, ``k x k`` blocks are averaged while reading, ``k``
        the integer nearest to the ratio of the grid's plate scale (radius
        ``392 N / 1024`` px) to the file's (:func:`bin_factor`); the map's
        header is adjusted (``CDELT * k``, ``CRPIX' = (CRPIX - 0.5) / k + 0.5``)
        so its WCS stays exact.  This is the fast path of
        :mod:`solar_euv.sdo.prep`.

    Returns
    -------
    SDOImage
        The map, its kind (``"hmi"`` or the AIA passband name) and the path.

    Raises
    ------
    solar_euv.exceptions.InputError
        For any of the problems listed in the module documentation.
    """
    import sunpy.map

    from solar_euv.scaling import solar_radius_px

    path = os.fspath(path)
    _precheck(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path, memmap=False, do_not_scale_image_data=True) as hdul:
                hdu = _image_hdu(hdul, path)
                header = hdu.header.copy()
                kind = detect_kind(header, path)
                _check_keywords(header, kind, path)
                quality_note = _check_quality(header, kind, path)
                raw = hdu.data
                if raw is None:
                    raise InputError(path, "holds no image (every HDU is empty)")
                raw = np.asarray(raw)
    except InputError:
        raise
    except Exception as err:  # astropy raises OSError, ValueError, TypeError, ...
        if _is_truncation(err):
            raise InputError(path, "is a truncated FITS file") from None
        raise InputError(path, f"is not a readable FITS file ({err})") from None
    if quality_note:
        warnings.warn(quality_note, SolarEUVWarning, stacklevel=2)
    if raw.ndim != 2:
        raise InputError(path, f"holds a {raw.ndim}-D image, not a 2-D SDO image")
    k = 1
    if grid_size is not None:
        target = _header_rsun_obs(header) / solar_radius_px(grid_size)
        k = bin_factor(abs(float(header["CDELT1"])), target)
    blank = header.get("BLANK") if raw.dtype.kind in "iu" else None
    data = block_mean(raw, k, bscale=float(header.get("BSCALE", 1.0)),
                      bzero=float(header.get("BZERO", 0.0)), blank=blank)
    del raw
    if data is None:
        raise InputError(path, "holds no finite pixel (all NaN or BLANK)")
    header = _binned_header(header, k, data.shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            smap = sunpy.map.Map((data, header))
            check_full_disk(smap, path)
    except InputError:
        raise
    except Exception as err:
        raise InputError(path, f"has a header sunpy cannot turn into a map ({err})") from None
    return SDOImage(map=smap, kind=kind, path=str(pathlib.Path(path)), binning=k)


def read_hmi(path):
    """Read and validate an HMI line-of-sight magnetogram into a sunpy Map.

    Raises :class:`~solar_euv.exceptions.InputError` for anything else,
    including an AIA image.
    """
    image = read_sdo(path)
    if image.kind != "hmi":
        raise InputError(path, f"is an AIA {image.kind} A image, not an HMI magnetogram")
    return image.map


def read_aia(path):
    """Read and validate an AIA level-1 or level-1.5 image into a sunpy Map.

    Raises :class:`~solar_euv.exceptions.InputError` for anything else,
    including an HMI magnetogram.
    """
    image = read_sdo(path)
    if image.kind == "hmi":
        raise InputError(path, "is an HMI magnetogram, not an AIA image")
    return image.map
