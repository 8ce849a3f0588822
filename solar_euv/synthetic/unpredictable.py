"""The part of the synthetic Sun's AIA images that the magnetogram cannot predict.

:func:`unpredictable_factor` multiplies each passband's noise-free,
predictable intensity (:mod:`solar_euv.synthetic.corona`) by a log-normal
modulation whose rms (:data:`UNPREDICTABLE_RMS`) is small in the UV and
large in the corona, plus random brightenings; see the notes of
:mod:`solar_euv.synthetic.corona` for what this does to the "oracle" scores.
"""
import numpy as np
from scipy import fft as sfft

from solar_euv.scaling import disk_center_px, solar_radius_px

__all__ = ["UNPREDICTABLE_RMS", "UNPREDICTABLE_SCALE", "unpredictable_factor"]

UNPREDICTABLE_RMS = {"1700": 0.04, "1600": 0.05, "304": 0.09, "171": 0.36, "193": 0.33,
                     "211": 0.33, "335": 0.36, "94": 0.38, "131": 0.36}
"""Per passband: rms (of the natural log) of the modulation the magnetogram cannot predict.

Small where the emission is tied to the photospheric field (UV), large in the
corona, so that the noise-free truth reaches a CC of ~0.97 (1700) down to
~0.88 (171) against the observed image at 128 px (see the module notes).
"""


UNPREDICTABLE_SCALE = {"1700": 0.02, "1600": 0.02, "304": 0.02, "171": 0.04, "193": 0.04,
                       "211": 0.04, "335": 0.04, "94": 0.04, "131": 0.04}
"""Per passband: correlation scale (Gaussian sigma, solar radii) of the unpredictable modulation.

0.02 R (14 Mm, network scale) in the UV; 0.04 R (28 Mm, loop-system scale)
in the corona, where what the magnetogram cannot tell is which loops are
heated, not the pixel-to-pixel texture.
"""

# Sensitivity of each passband to the unpredictable brightenings (relative).
_BRIGHTENING_WEIGHT = {"1700": 0.3, "1600": 0.8, "304": 1.0, "171": 0.8, "193": 0.8,
                       "211": 1.0, "335": 1.2, "94": 2.0, "131": 2.0}


def unpredictable_factor(rng_seed, size, passbands):
    """Multiplicative fields the magnetogram cannot predict, one per passband.

    ``factor = exp(s_p n - s_p**2 / 2) * (1 + w_p sum_i A_i g_i)`` where ``n``
    is a unit-variance Gaussian random field on ~0.02 R (14 Mm) scales, one
    pattern shared by all passbands (unresolved heating and thermal
    structure), with a per-passband rms ``s_p`` (:data:`UNPREDICTABLE_RMS`:
    4 % at 1700 up to 30-32 % in the coronal channels), and ``g_i`` are
    ~Poisson(30) brightenings per image (bright points, small flares:
    Gaussian blobs of 0.003-0.01 R, peak amplitude ``A_i`` log-normal with
    median 1, i.e. doubling the local intensity; averaged over the pixel, so
    smaller images show them as binned data would) weighted per passband by
    ``w_p`` (0.3 at 1700 up to 2 at 94 and 131).  The modulation dominates
    the unpredictable variance; the brightenings cost each passband's oracle
    CC less than 0.01.

    Parameters
    ----------
    rng_seed : sequence of int
        Seed material, e.g. ``(seed, unix_seconds)``.
    size : int
        Side of the common grid.
    passbands : iterable of str

    Returns
    -------
    dict of str -> numpy.ndarray
    """
    rng = np.random.default_rng(list(rng_seed))
    radius = solar_radius_px(size)
    white = rng.standard_normal((size, size)).astype(np.float32)
    ky = sfft.fftfreq(size)[:, None]
    kx = sfft.rfftfreq(size)[None, :]
    k = 2.0 * np.pi * np.sqrt(kx ** 2 + ky ** 2) * radius
    white_k = sfft.rfft2(white, workers=1)
    fields = {}
    for scale in sorted({UNPREDICTABLE_SCALE[p] for p in passbands}):
        transfer = np.exp(-0.5 * (k * scale) ** 2).astype(np.float32)
        n = sfft.irfft2(white_k * transfer, s=white.shape, workers=1).astype(np.float32)
        fields[scale] = n / np.float32(max(float(n.std()), 1e-12))

    count = rng.poisson(30)
    c = disk_center_px(size)
    blobs = np.zeros((size, size), dtype=np.float32)
    r = np.sqrt(rng.random(count)) * 0.98 * radius
    phi = rng.uniform(0.0, 2.0 * np.pi, count)
    sig = rng.uniform(0.003, 0.01, count) * radius
    amp = rng.lognormal(0.0, 0.7, count)
    for ri, pi, si, ai in zip(r, phi, sig, amp):
        xc, yc = c + ri * np.cos(pi), c + ri * np.sin(pi)
        # averaged over the pixel: variance + 1/12 px^2, same integral
        var = si * si + 1.0 / 12.0
        ai = ai * si * si / var
        half = int(np.ceil(3.5 * np.sqrt(var))) + 1
        i0, i1 = max(int(xc) - half, 0), min(int(xc) + half + 2, size)
        j0, j1 = max(int(yc) - half, 0), min(int(yc) + half + 2, size)
        yy, xx = np.ogrid[j0:j1, i0:i1]
        blobs[j0:j1, i0:i1] += ai * np.exp(-((xx - xc) ** 2 + (yy - yc) ** 2) / (2.0 * var))
    out = {}
    for p in passbands:
        rms = np.float32(UNPREDICTABLE_RMS[p])
        n = fields[UNPREDICTABLE_SCALE[p]]
        modulation = np.exp(rms * n - np.float32(0.5) * rms * rms)
        out[p] = (modulation * (1.0 + _BRIGHTENING_WEIGHT[p] * blobs)).astype(np.float32)
    return out
