"""Averaging ``k x k`` blocks of an image while ignoring missing pixels.

The low-pass step before the warp onto the common grid
(:mod:`solar_euv.sdo.prep`): :func:`bin_factor` chooses ``k`` from the plate
scales, :func:`block_mean` averages (float32 strided adds).
"""
import numpy as np

__all__ = ["block_mean", "bin_factor"]


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
