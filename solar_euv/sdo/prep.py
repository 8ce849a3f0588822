"""Calibrate SDO images and resample them onto the common grid, fast.

The common grid (:mod:`solar_euv.scaling`): ``N x N`` pixels,
solar north up, the disk centre at the array centre, the solar radius fixed
at ``R = 392 N / 1024`` pixels.  Arrays are in FITS order: row index grows
northwards and column index westwards (display with ``origin="lower"``, as
sunpy does); pixel centres sit at integer 0-based indices, so the disk
centre is at ``((N - 1) / 2, (N - 1) / 2)`` (FITS ``CRPIX = (N + 1) / 2``).

How one image is resampled: see :mod:`solar_euv.sdo.resample` (one block
average while reading, one affine warp built from the header's WCS, at the
output resolution, instead of registering at full resolution).

Level-1.5 AIA input (already registered, such as the synoptic product) goes
through the same warp: its header describes an unrotated, centred image, so
it is only rescaled to the fixed radius, never registered twice.

Units and flux
--------------
* AIA: DN/s.  Level-1 data in DN are divided by ``EXPTIME`` (data whose
  ``BUNIT`` is already per second are not), then by the degradation factor
  of :mod:`solar_euv.sdo.calibration` (on by default).  Binning *averages*
  and the warp interpolates, so values stay DN/s per full-resolution AIA
  pixel, directly comparable with full-resolution level-1.5 DN/s (as the
  paper's data); they are not summed over the larger output pixel.  The
  total flux on the disk therefore scales with the number of output pixels;
  the mean on-disk intensity is preserved.
* HMI: Gauss (line-of-sight field), averaged likewise.  Off-disk pixels
  (beyond ``R``) and missing on-disk pixels are 0 G.
* Off-limb AIA pixels are kept (the network masks them later); pixels
  outside the input field of view are 0.

Pointing: the header's, unless a master pointing table is given
(``pointing_table``, ``prepare --pointing jsoc``): then a level-1 AIA image
first gets the table's pointing (:func:`solar_euv.sdo.pointing.apply_pointing`,
aiapy's ``update_pointing``), before the warp that registers it.

Not done (outside level 1.5): PSF deconvolution.
"""
import dataclasses
import functools
import os
from dataclasses import dataclass, field

import numpy as np

from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.scaling import disk_center_px, disk_mask, solar_radius_px
from solar_euv.sdo.calibration import degradation_factor
from solar_euv.sdo.io import SDOImage, bin_factor, check_hmi, detect_kind, read_sdo
from solar_euv.sdo.resample import MAX_ABS_VALUE, resample_to_grid

__all__ = [
    "PreparedImage",
    "prepare_hmi",
    "prepare_hmi_files",
    "prepare_aia",
    "prepare_file",
]


def _too_large(path, detail):
    """The :class:`InputError` of an image with absurdly large pixel values.

    Parameters
    ----------
    path : str
        The file ("" for an in-memory map).
    detail : str
        What was found (``"pixel values up to 3e+38"``).

    Returns
    -------
    InputError
    """
    return InputError(path or "<map>", f"holds {detail}: damaged data, not an SDO image (SDO "
                                       "pixel values stay below about 1e6; anything beyond "
                                       f"{MAX_ABS_VALUE:.0e} is refused)", category="damaged")


def _check_magnitude(image):
    """Refuse an image whose finite pixels reach beyond :data:`MAX_ABS_VALUE`."""
    data = np.asarray(image.map.data)
    peak = float(np.max(np.abs(data), initial=0.0, where=np.isfinite(data)))
    if peak > MAX_ABS_VALUE:
        raise _too_large(image.path, f"pixel values up to {peak:.3g}")


def _check_finite(out, image):
    """Refuse a result that overflowed (its input had no infinity left in it)."""
    if not np.isfinite(out).all():
        raise _too_large(image.path, "pixel values that overflow float32 once calibrated")


@dataclass
class PreparedImage:
    """One image on the common grid.

    Attributes
    ----------
    kind : str
        The channel: ``"hmi"`` for a magnetogram, else the AIA passband name
        (``"171"``); the same as :attr:`solar_euv.sdo.io.SDOImage.kind` and
        the ``kind`` of :mod:`solar_euv.sdo.pairing`.
    instrument : str
        ``"hmi"`` or ``"aia"``; ``"mdi"`` or ``"gong"`` for a magnetogram of
        those instruments (in HMI-equivalent Gauss, ``kind`` ``"hmi"``).
    passband : str or None
        The AIA passband name (``"171"``); None for a magnetogram.
    time : str
        Observation time (``T_OBS``), UTC, ISO-8601 with milliseconds and a
        ``Z`` (``2017-01-01T00:00:09.340Z``).
    data : numpy.ndarray
        ``float32 (size, size)``: Gauss for HMI, DN/s for AIA.
    path : str
        Source file ("" when prepared from an in-memory map).
    size : int
        Grid side ``N``.
    radius_px : float
        Solar radius on the grid, ``392 N / 1024``.
    meta : dict
        Provenance: ``level``, ``quality``, ``bin_factor``, and for AIA
        ``exptime`` (s, 1.0 for data already in DN/s) and ``degradation``
        (the factor divided out; 1.0 when off).
    """

    kind: str
    instrument: str
    passband: object
    time: str
    data: np.ndarray
    path: str
    size: int
    radius_px: float
    meta: dict = field(default_factory=dict)


def _as_image(map_or_path, size=None):
    if isinstance(map_or_path, SDOImage):
        return map_or_path
    if isinstance(map_or_path, (str, os.PathLike)):
        # read_sdo averages blocks in float32: values near 3.4e38 overflow to
        # infinity there (missing pixels come back as NaN, never as inf).
        with np.errstate(over="ignore"):
            image = read_sdo(map_or_path, grid_size=size)
        if np.isinf(image.map.data).any():
            raise _too_large(image.path, "pixel values so large that averaging them "
                                         "overflows float32")
        return image
    meta = getattr(map_or_path, "meta", None)
    if meta is None:
        raise SolarEUVError("expected a file path, an SDOImage or a sunpy Map; "
                            f"received {type(map_or_path).__name__}")
    kind = detect_kind(meta, "<map>")
    return SDOImage(map=map_or_path, kind=kind, path="")


def _grid(size):
    size = int(size)
    if size < 8:
        raise SolarEUVError(f"the grid size must be at least 8 pixels; received {size}")
    return size, (disk_center_px(size), disk_center_px(size)), solar_radius_px(size)


def _output_scale(smap, radius):
    import astropy.units as u

    return float(smap.rsun_obs.to_value(u.arcsec)) / radius


def prepare_hmi(map_or_path, size=1024, *, order=3):
    """HMI magnetogram -> ``float32 (size, size)`` in Gauss on the common grid.

    Rotated by ``CROTA2`` (about 180 deg), rescaled so that the radius is
    ``392 size / 1024`` px and centred (see the module notes); off-disk and
    missing pixels are 0 G.

    Parameters
    ----------
    map_or_path : str, os.PathLike, SDOImage or sunpy.map.GenericMap
        The magnetogram (validated by :func:`solar_euv.sdo.io.read_sdo`).
    size : int
        Grid side ``N``.
    order : int
        Spline order of the warp.

    Returns
    -------
    numpy.ndarray
    """
    image = _as_image(map_or_path, size)
    check_hmi(image, image.path or "<map>")
    size, centre, radius = _grid(size)
    _check_magnitude(image)
    out = resample_to_grid(image.map, (size, size), centre,
                           _output_scale(image.map, radius), order=order)
    _check_finite(out, image)
    out[_off_disk(size)] = 0.0
    return out


def prepare_hmi_files(paths, size=1024, *, order=3):
    """HMI magnetogram files -> their images and a ``float32 (n, size, size)`` stack in Gauss.

    Every file is read (:func:`~solar_euv.sdo.io.read_sdo`, blocks averaged
    towards the grid) and refused unless it is an HMI magnetogram before any
    is resampled, so a wrong file is named before the slow part; then each
    goes through :func:`prepare_hmi`.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        At least one file.
    size, order : int
        Grid side ``N`` and spline order of the warp, as for :func:`prepare_hmi`.

    Returns
    -------
    images : list of SDOImage
        The files as read, in the order of ``paths`` (their maps' headers
        and times describe the sources).
    gauss : numpy.ndarray
        ``float32 (len(paths), size, size)``, one magnetogram per file.

    Raises
    ------
    solar_euv.exceptions.InputError
        The first file that is unreadable, unusable or not an HMI
        magnetogram (one sentence naming it as given).
    """
    images = []
    for path in paths:
        image = read_sdo(path, grid_size=size)
        check_hmi(image, path)
        images.append(image)
    return images, np.stack([prepare_hmi(image, size, order=order) for image in images])


@functools.lru_cache(maxsize=8)
def _off_disk(size):
    """Read-only boolean mask of the pixels beyond R on the ``size`` grid (cached)."""
    mask = ~disk_mask(size)
    mask.flags.writeable = False
    return mask


def _is_per_second(smap):
    unit = str(smap.meta.get("bunit", "") or smap.meta.get("pixlunit", "")).strip().lower()
    compact = unit.replace(" ", "").replace("-1", "/").replace("^", "")
    return compact.endswith("/s") or compact.endswith("/sec") or compact in ("dn/s", "ct/s")


def _aia_factors(image, correction_table, degradation):
    smap = image.map
    exptime = 1.0 if _is_per_second(smap) else float(smap.meta["exptime"])
    factor = 1.0
    if degradation:
        try:
            factor = degradation_factor(image.kind, image.time, correction_table)
        except InputError:
            raise                  # the correction table itself is unusable: named
        except SolarEUVError as err:
            # A time the table cannot correct (an unphysical extrapolation far
            # past the table, or before its first epoch): name the image.
            raise InputError(image.path or "<map>", f"cannot be calibrated: {err}",
                             category="uncorrectable") from None
    return exptime, factor


def prepare_aia(map_or_path, size=1024, correction_table=None, degradation=True, *, order=3,
                pointing_table=None):
    """AIA level-1 or level-1.5 image -> ``float32 (size, size)`` in DN/s.

    Registration (roll removed, rescaled, centred: what
    ``aiapy.calibrate.register`` does, here at the output resolution in one
    warp), exposure normalisation (``/ EXPTIME`` unless already per second)
    and degradation correction (``/ factor``).  Values are DN/s per
    full-resolution AIA pixel: binning averages, it does not sum.

    Parameters
    ----------
    map_or_path : str, os.PathLike, SDOImage or sunpy.map.GenericMap
        The AIA image.
    size : int
        Grid side ``N``.
    correction_table : str, os.PathLike or None
        Degradation correction table file; None uses the shipped V8 table.
    degradation : bool
        Apply the degradation correction.
    order : int
        Spline order of the warp.
    pointing_table : str, os.PathLike, astropy.table.QTable or None
        AIA master pointing table (:mod:`solar_euv.sdo.pointing`) whose
        pointing replaces a level-1 header's; None keeps the header's.

    Returns
    -------
    numpy.ndarray
    """
    image = _pointed(_as_image(map_or_path, size), pointing_table)
    return _prepare_aia(image, size, correction_table, degradation, order)[0]


def _pointed(image, pointing_table):
    """The AIA image with the table's pointing (unchanged without a table, or for HMI)."""
    if pointing_table is None or image.kind == "hmi":
        return image
    from solar_euv.sdo.pointing import apply_pointing

    return dataclasses.replace(image, map=apply_pointing(image, pointing_table))


def _prepare_aia(image, size, correction_table, degradation, order):
    if image.kind == "hmi":
        raise InputError(image.path or "<map>", "is an HMI magnetogram, not an AIA image",
                         category="product")
    size, centre, radius = _grid(size)
    exptime, factor = _aia_factors(image, correction_table, degradation)
    _check_magnitude(image)
    out = resample_to_grid(image.map, (size, size), centre,
                           _output_scale(image.map, radius), order=order)
    with np.errstate(over="ignore"):
        out *= np.float32(1.0 / (exptime * factor))
    _check_finite(out, image)
    return out, exptime, factor


def prepare_file(path, size=1024, *, correction_table=None, degradation=True, order=3,
                 pointing_table=None):
    """Read, validate, calibrate and resample one SDO file.

    Parameters
    ----------
    path : str or os.PathLike
        HMI magnetogram or AIA image.
    size, correction_table, degradation, order, pointing_table
        As in :func:`prepare_aia` / :func:`prepare_hmi`.

    Returns
    -------
    PreparedImage

    Raises
    ------
    solar_euv.exceptions.InputError
        If the file is unusable (see :mod:`solar_euv.sdo.io`), holds pixel
        values beyond :data:`MAX_ABS_VALUE`, or is an AIA image the correction
        table cannot correct for degradation (a time before its first epoch,
        or so far past its end that the extrapolated factor is not positive)
        or that the pointing table has no entry for.
    """
    other = _other_magnetogram(path, size)
    if other is not None:
        return other
    image = _as_image(path, size)
    time = image.time
    meta = {"level": image.level, "quality": int(image.map.meta.get("quality", 0) or 0)}
    if image.kind == "hmi":
        data = prepare_hmi(image, size, order=order)
        kind = "hmi"
    else:
        pointed = _pointed(image, pointing_table)
        data, exptime, factor = _prepare_aia(pointed, size, correction_table, degradation,
                                             order)
        meta.update(exptime=exptime, degradation=factor,
                    pointing="header" if pointed.map is image.map else "jsoc")
        image = pointed
        kind = "aia"
    import astropy.units as u

    scale = abs(float(image.map.scale[0].to_value(u.arcsec / u.pix)))
    warp_k = bin_factor(scale, _output_scale(image.map, solar_radius_px(size)))
    meta["bin_factor"] = image.binning * warp_k
    return PreparedImage(kind=image.kind, instrument=kind,
                         passband=None if kind == "hmi" else image.kind,
                         time=(time.utc.isot + "Z") if time is not None else "",
                         data=data, path=image.path, size=int(size),
                         radius_px=solar_radius_px(size), meta=meta)


def _other_magnetogram(path, size):
    """A :class:`PreparedImage` of an MDI or GONG magnetogram file; None for SDO files.

    The field is in HMI-equivalent Gauss
    (:mod:`solar_euv.sdo.magnetograms`); ``meta`` records the instrument and
    the cross-calibration factor.
    """
    from solar_euv.sdo import magnetograms
    from solar_euv.sdo.io import read_header
    from solar_euv.sdo.magnetogram_kind import is_sdo

    if not isinstance(path, (str, os.PathLike)) or is_sdo(read_header(path)):
        return None
    mag = magnetograms.read_magnetogram(path, size)
    meta = {"level": float(mag.meta.get("lvl_num", 0) or 0),
            "quality": int(mag.meta.get("quality", 0) or 0), "bin_factor": 1,
            "instrument": mag.instrument, "cross_calibration": mag.calibration.factor}
    return PreparedImage(kind="hmi", instrument=mag.instrument, passband=None,
                         time=mag.time.utc.isot + "Z", data=mag.gauss, path=mag.path,
                         size=int(size), radius_px=solar_radius_px(size), meta=meta)
