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
* a fatal ``QUALITY`` bit, judged bit by bit from the instrument teams'
  definitions (:mod:`solar_euv.sdo.quality`); bits that only deserve a
  warning give a :class:`~solar_euv.exceptions.SolarEUVWarning`.

Each error carries a ``category`` (:data:`solar_euv.exceptions.CATEGORIES`:
``unreadable``, ``product``, ``header``, ``cutout``, ``QUALITY``, ``damaged``)
so that a batch can count what it skipped.

The checks that need no pixels live in :mod:`solar_euv.sdo.headers` and the
block averaging in :mod:`solar_euv.sdo.binning`; their public names are
available here too.

NaN handling: pixels that are NaN or equal to ``BLANK`` are NaN in the
returned map (HMI leaves off-disk pixels NaN); :mod:`solar_euv.sdo.prep`
treats them as missing.  A file without any finite pixel is refused.
"""
import contextlib
import os
import pathlib
import warnings
from dataclasses import dataclass

import numpy as np
from astropy.io import fits

from solar_euv.exceptions import InputError, SolarEUVWarning
from solar_euv.sdo.binning import bin_factor, block_mean
from solar_euv.sdo.headers import (NUMERIC_KEYWORDS, REQUIRED_KEYWORDS, _check_cards,
                                   _header_rsun_obs, _observation_time, check_full_disk,
                                   detect_kind, observation_time, validate_header)

__all__ = [
    "SDOImage",
    "read_sdo",
    "read_hmi",
    "read_aia",
    "check_hmi",
    "read_header",
    "block_mean",
    "bin_factor",
    "detect_kind",
    "observation_time",
    "check_full_disk",
    "validate_header",
    "check_map",
    "REQUIRED_KEYWORDS",
    "NUMERIC_KEYWORDS",
]

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


def _precheck(path):
    try:
        with open(path, "rb") as fh:
            start = fh.read(30)
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a FITS file", category="unreadable") from None
    except FileNotFoundError:
        raise InputError(path, "does not exist", category="unreadable") from None
    except OSError as err:
        raise InputError(path, f"cannot be read ({err.strerror})", category="unreadable") from None
    if start.startswith(b"\x1f\x8b"):
        return                     # gzip-compressed FITS: astropy checks it when reading
    if not start.startswith(b"SIMPLE  =") and not start.startswith(b"SIMPLE="):
        raise InputError(path, "is not a FITS file (no SIMPLE card at the start)",
                         category="unreadable")
    size = os.path.getsize(path)
    if size % 2880:
        raise InputError(path, f"is a truncated FITS file ({size} bytes, not a whole "
                               "number of 2880-byte FITS blocks)", category="unreadable")


def _is_truncation(err):
    text = str(err).lower()
    return any(w in text for w in ("truncat", "buffer is too small", "eof", "smaller than",
                                   "cannot reshape", "not enough"))


@contextlib.contextmanager
def _reading(path):
    """Astropy's warnings silenced, and what it raises reading ``path`` as one InputError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except InputError:
        raise
    except Exception as err:  # astropy raises OSError, ValueError, TypeError, ...
        if _is_truncation(err):
            raise InputError(path, "is a truncated FITS file", category="unreadable") from None
        raise InputError(path, f"is not a readable FITS file ({err})",
                         category="unreadable") from None


def _image_hdu(hdul, path):
    for hdu in hdul:
        if not getattr(hdu, "is_image", False) or not hdu.header.get("NAXIS", 0):
            continue
        naxis = hdu.header.get("NAXIS")
        if naxis != 2:
            raise InputError(path, f"holds a {naxis}-D image, not a 2-D SDO image",
                             category="unreadable")
        _check_cards(hdu.header, path)
        return hdu
    raise InputError(path, "holds no image (every HDU is empty)", category="unreadable")


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
    with _reading(path), fits.open(path, memmap=False, lazy_load_hdus=True) as hdul:
        return _image_hdu(hdul, path).header.copy()


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
    with _reading(path), fits.open(path, memmap=False, do_not_scale_image_data=True) as hdul:
        hdu = _image_hdu(hdul, path)
        header = hdu.header.copy()
        kind, quality_note = validate_header(header, path)
        raw = hdu.data
        if raw is None:
            raise InputError(path, "holds no image (every HDU is empty)",
                             category="unreadable")
        raw = np.asarray(raw)
    if quality_note:
        warnings.warn(quality_note, SolarEUVWarning, stacklevel=2)
    if raw.ndim != 2:
        raise InputError(path, f"holds a {raw.ndim}-D image, not a 2-D SDO image",
                         category="unreadable")
    k = 1
    if grid_size is not None:
        target = _header_rsun_obs(header) / solar_radius_px(grid_size)
        k = bin_factor(abs(float(header["CDELT1"])), target)
    blank = header.get("BLANK") if raw.dtype.kind in "iu" else None
    data = block_mean(raw, k, bscale=float(header.get("BSCALE", 1.0)),
                      bzero=float(header.get("BZERO", 0.0)), blank=blank)
    del raw
    if data is None:
        raise InputError(path, "holds no finite pixel (all NaN or BLANK)", category="damaged")
    header = _binned_header(header, k, data.shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            smap = sunpy.map.Map((data, header))
    except InputError:
        raise
    except Exception as err:
        raise InputError(path, f"has a header sunpy cannot turn into a map ({err})",
                         category="header") from None
    return SDOImage(map=smap, kind=kind, path=str(pathlib.Path(path)), binning=k)


def read_hmi(path):
    """Read and validate an HMI line-of-sight magnetogram into a sunpy Map.

    Raises :class:`~solar_euv.exceptions.InputError` for anything else,
    including an AIA image.
    """
    image = read_sdo(path)
    check_hmi(image, path)
    return image.map


def check_hmi(image, name):
    """Raise :class:`~solar_euv.exceptions.InputError` unless ``image`` is an HMI magnetogram.

    Parameters
    ----------
    image : SDOImage
    name : str or os.PathLike
        What the error names (the file as the caller gave it).
    """
    if image.kind != "hmi":
        raise InputError(name, f"is an AIA {image.kind} A image, not an HMI magnetogram",
                         category="product")


def read_aia(path):
    """Read and validate an AIA level-1 or level-1.5 image into a sunpy Map.

    Raises :class:`~solar_euv.exceptions.InputError` for anything else,
    including an HMI magnetogram.
    """
    image = read_sdo(path)
    if image.kind == "hmi":
        raise InputError(path, "is an HMI magnetogram, not an AIA image", category="product")
    return image.map


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
        Another kind of image, a missing keyword, a fatal ``QUALITY``, a
        cutout (:func:`validate_header`), or no finite pixel.
    """
    found = detect_kind(smap.meta, name)
    if found != kind:
        what = "an HMI magnetogram" if found == "hmi" else f"an AIA {found} A image"
        raise InputError(name, f"is {what}, not the {kind} image needed here",
                         category="product")
    header = smap.meta.copy()          # case-insensitive, as a FITS header
    header["naxis2"], header["naxis1"] = np.shape(smap.data)
    _, quality_note = validate_header(header, name)
    if quality_note:
        warnings.warn(quality_note, SolarEUVWarning, stacklevel=2)
    if not np.isfinite(np.asarray(smap.data)).any():
        raise InputError(name, "holds no finite pixel (all NaN or BLANK)", category="damaged")
