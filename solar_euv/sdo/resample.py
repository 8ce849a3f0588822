"""Resample an SDO map onto a north-up grid in one block average and one affine warp.

Instead of registering at full resolution (``aiapy.calibrate.register``:
rotate, rescale and recentre a 4096 x 4096 image, then shrink it), every
image is resampled once, at the output resolution:

1. average ``k x k`` blocks while reading (:func:`solar_euv.sdo.io.read_sdo`
   with ``grid_size``; missing pixels ignored), ``k`` the integer nearest to
   the ratio of the output plate scale to the input's (4 for AIA, 5 for HMI
   at 4096 -> 1024): the low-pass filter the reference's binning applies.
   A block's centre is at full-resolution pixel ``k q + (k - 1) / 2``, and
   the binned map's header says so (``CRPIX' = (CRPIX - 0.5) / k + 0.5``);
2. one affine warp (:func:`skimage.transform.warp`, bicubic by default, as
   aiapy's register interpolates cubically) from the output grid to the
   binned input, built from the header's WCS: ``CRPIX`` (1-based in FITS,
   hence ``CRPIX - 1``), ``CRVAL``, ``CDELT`` and the ``PCi_j`` / ``CROTA2``
   rotation, so that the world point (0", 0") -- the disk centre -- lands
   exactly on the array centre and ``RSUN_OBS`` on ``R`` pixels.  The roll
   (AIA's ~0.01 deg, HMI's ~180 deg) and the yearly change of the apparent
   radius are removed in the same step.

:mod:`solar_euv.sdo.prep` uses this for every image (the common grid of
:mod:`solar_euv.scaling`), :mod:`solar_euv.sdo.magnetograms` for MDI and
GONG magnetograms.
"""
import numpy as np

from solar_euv.exceptions import SolarEUVError
from solar_euv.sdo.io import bin_factor, block_mean

__all__ = ["MAX_ABS_VALUE", "resample_to_grid"]


#: Largest pixel magnitude accepted.  SDO images stay below about 1e6 (AIA's
#: 14-bit DN over its shortest exposures, HMI's few kG); far larger values are
#: damaged data, and near float32's 3.4e38 they overflow the block sums, the
#: bicubic warp and the exposure and degradation division.
MAX_ABS_VALUE = 1e30


def _wcs_terms(smap):
    meta = smap.meta
    crpix = np.array([float(meta["crpix1"]), float(meta["crpix2"])]) - 1.0  # 0-based
    crval = np.array([float(meta["crval1"]), float(meta["crval2"])])
    cdelt = np.array([float(meta["cdelt1"]), float(meta["cdelt2"])])
    pc = np.asarray(smap.rotation_matrix, dtype=float)
    return crpix, crval, cdelt, pc


def resample_to_grid(smap, shape, center, scale, *, order=3, k=None, fill=0.0):
    """Resample a map onto a north-up grid in one binning + one affine warp.

    Parameters
    ----------
    smap : sunpy.map.GenericMap
        Input image with helioprojective WCS keywords in arcsec.
    shape : tuple of int
        Output ``(ny, nx)``.
    center : tuple of float
        0-based output pixel ``(x, y)`` where the disk centre (0", 0") goes.
    scale : float
        Output plate scale in arcsec per pixel.
    order : int
        Interpolation order of the warp (:func:`skimage.transform.warp`;
        3 = bicubic, as ``aiapy.calibrate.register`` interpolates cubically).
    k : int or None
        Block size of the pre-warp averaging; None chooses :func:`bin_factor`.
    fill : float
        Value of output pixels outside the input and of missing (NaN) input.

    Returns
    -------
    numpy.ndarray
        ``float32`` array of ``shape``; values are block averages, so
        intensities keep their per-input-pixel units.

    Raises
    ------
    solar_euv.exceptions.SolarEUVError
        If a block sum overflows float32 (pixel values near 3.4e38): such an
        infinity is not a missing pixel and is never filled in.
    """
    from skimage.transform import warp

    crpix, crval, cdelt, pc = _wcs_terms(smap)
    if k is None:
        k = bin_factor(abs(cdelt[0]), scale)
    if k == 1:
        binned = np.array(smap.data, dtype=np.float32, copy=True)
    else:
        with np.errstate(over="ignore"):
            binned = block_mean(np.array(smap.data, copy=True), k)
        if binned is None:
            return np.full(tuple(shape), fill, dtype=np.float32)
        # block_mean turns missing (non-finite) input into NaN; an infinity is
        # a float32 sum that overflowed, never a missing pixel to fill.
        if np.isinf(binned).any():
            raise SolarEUVError("the image holds pixel values too large to average in "
                                f"float32 (beyond {MAX_ABS_VALUE:.0e}); it is not SDO data")
    missing = ~np.isfinite(binned)
    if missing.any():
        binned[missing] = fill
    # full-res 0-based pixel p = crpix + PC^-1 ((T - crval) / cdelt),
    # world T = scale * (o - center); binned q = (p - (k - 1) / 2) / k.
    pc_inv = np.linalg.inv(pc)
    lin = pc_inv @ np.diag(1.0 / cdelt) * scale / k           # d q / d o, (x, y) order
    off = (crpix + pc_inv @ ((-scale * np.asarray(center, float) - crval) / cdelt)
           - (k - 1) / 2.0) / k
    inverse = np.eye(3)
    inverse[:2, :2], inverse[:2, 2] = lin, off                 # output (x, y) -> input (x, y)
    with np.errstate(over="ignore", invalid="ignore"):
        out = warp(binned, inverse, output_shape=tuple(shape), order=order, mode="constant",
                   cval=fill, clip=False, preserve_range=True)
        return out.astype(np.float32, copy=False)
