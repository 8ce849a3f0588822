"""The paper's image-quality metrics, computed one way, in one place (numpy).

Following the authors' evaluation (reference/original-implementation.md):

1. Both images (physical units, DN/s) are binned to 256 x 256 by averaging
   ``size // 256`` x ``size // 256`` blocks (4x4 at 1024; no binning below
   256 px).
2. Only pixels on the solar disk count: within ``R = 392 * N / 1024`` pixels
   of the centre of the binned ``N x N`` grid (98 px at 256).
3. Values are ``x + 1`` clipped to ``[1, 2**14]``.
4. CC is the Pearson correlation of generated and observed values; RE the
   relative total-flux error ``(sum(gen) - sum(obs)) / sum(obs)``; PPE10 and
   PPE50 the fraction of pixels whose relative error
   ``|gen - obs| / obs`` is at most 0.1 and 0.5.

Over a set, each metric is the mean of the per-image values (the paper's
table), reported with its standard deviation and count.
"""
import math
from dataclasses import dataclass, field

import numpy as np

from solar_euv.scaling import disk_center_px, disk_mask, solar_radius_px

__all__ = ["METRIC_NAMES", "SHARPNESS_NAMES", "PAPER_TABLE", "image_metrics",
           "image_sharpness", "radial_power_spectrum", "prepare_for_metrics",
           "MetricAccumulator"]

METRIC_NAMES = ("CC", "RE", "PPE10", "PPE50")

#: Beside the paper's metrics: what Model B's adversarial loss is for.
#: FLUX: total-flux ratio generated / observed on the disk (``1 + RE``).
#: HFP: ratio of the azimuthally averaged power spectra of generated to
#: observed at high spatial frequency (:func:`image_sharpness`); below 1 the
#: generated image is smoother than the observed one.
SHARPNESS_NAMES = ("FLUX", "HFP")

#: Spatial frequencies (cycles per pixel of the evaluation grid) averaged by HFP.
HIGH_FREQUENCY_BAND = (0.25, 0.5)

#: Park et al. (2019), test set 2017 Jul-Dec: {passband: {model: (CC, RE)}}.
PAPER_TABLE = {
    "1700": {"A": (0.97, 0.01), "B": (0.95, 0.02)},
    "1600": {"A": (0.94, 0.11), "B": (0.92, 0.11)},
    "304": {"A": (0.84, -0.18), "B": (0.83, -0.17)},
    "171": {"A": (0.69, -0.05), "B": (0.66, -0.04)},
    "193": {"A": (0.78, 0.07), "B": (0.74, 0.07)},
    "211": {"A": (0.86, 0.08), "B": (0.78, 0.08)},
    "335": {"A": (0.86, -0.03), "B": (0.85, 0.04)},
    "94": {"A": (0.79, -0.03), "B": (0.75, -0.02)},
    "131": {"A": (0.81, -0.04), "B": (0.78, -0.03)},
}

EVALUATION_SIZE = 256
VALUE_MAX = 2.0**14


def _bin(image, factor):
    if factor == 1:
        return image
    n = image.shape[0] // factor
    return image.reshape(n, factor, n, factor).mean(axis=(1, 3))


def prepare_for_metrics(image):
    """Bin a ``(N, N)`` DN/s image and return its on-disk values, ``x + 1`` clipped.

    Returns
    -------
    numpy.ndarray
        1-D float64 array of the disk pixels of the binned image.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or image.shape[0] != image.shape[1]:
        raise ValueError(f"expected a square 2-D image; received shape {image.shape}")
    size = image.shape[0]
    factor = max(1, size // EVALUATION_SIZE)
    if size % factor:
        raise ValueError(f"image size {size} is not a multiple of the binning {factor}")
    binned = _bin(np.nan_to_num(image, nan=0.0), factor)
    values = binned[disk_mask(binned.shape[0])]
    return np.clip(values + 1.0, 1.0, VALUE_MAX)


def image_metrics(generated, observed):
    """CC, RE, PPE10, PPE50 of one generated image against the observed one.

    Parameters
    ----------
    generated, observed : array_like
        ``(N, N)`` images in DN/s on the common grid.

    Returns
    -------
    dict
        ``{"CC": ..., "RE": ..., "PPE10": ..., "PPE50": ...}`` as floats (CC is
        NaN when either image is constant on the disk).
    """
    gen = prepare_for_metrics(generated)
    obs = prepare_for_metrics(observed)
    g0, o0 = gen - gen.mean(), obs - obs.mean()
    denom = math.sqrt(float(np.dot(g0, g0)) * float(np.dot(o0, o0)))
    cc = float(np.dot(g0, o0)) / denom if denom > 0 else float("nan")
    re = float((gen.sum() - obs.sum()) / obs.sum())
    rel = np.abs(gen - obs) / obs
    return {"CC": cc, "RE": re, "PPE10": float(np.mean(rel <= 0.1)),
            "PPE50": float(np.mean(rel <= 0.5))}


def _disk_window(size):
    """Weights inside the disk: 1 within 0.8 R, a cosine taper to 0 at 0.95 R."""
    c = disk_center_px(size)
    yy, xx = np.mgrid[0:size, 0:size]
    r = np.hypot(yy - c, xx - c) / solar_radius_px(size)
    taper = np.clip((r - 0.8) / 0.15, 0.0, 1.0)
    return 0.5 * (1.0 + np.cos(np.pi * taper))


def radial_power_spectrum(image):
    """Azimuthally averaged power spectrum of the disk of a DN/s image.

    The image is binned as for the paper's metrics, taken as ``log2(x + 1)``
    (values clipped as there), its disk mean removed, weighted by a window
    that is 1 within 0.8 R and falls to 0 at 0.95 R (the limb and the
    off-disk pixels do not count), and Fourier transformed.

    Parameters
    ----------
    image : array_like
        ``(N, N)`` image in DN/s on the common grid.

    Returns
    -------
    frequency, power : numpy.ndarray
        Radial frequency in cycles per pixel of the binned grid (bin centres,
        ``1/n`` wide up to 0.5) and the mean power in each ring.
    """
    image = np.asarray(image, dtype=np.float64)
    size = image.shape[0]
    factor = max(1, size // EVALUATION_SIZE)
    binned = np.log2(np.clip(_bin(np.nan_to_num(image, nan=0.0), factor) + 1.0, 1.0,
                             VALUE_MAX))
    n = binned.shape[0]
    window = _disk_window(n)
    inside = window > 0
    centred = (binned - binned[inside].mean()) * window
    power = np.abs(np.fft.fft2(centred)) ** 2
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.fftfreq(n)[None, :]
    ring = np.floor(np.hypot(fy, fx) * n + 0.5).astype(int)
    count = np.bincount(ring.ravel())
    total = np.bincount(ring.ravel(), weights=power.ravel())
    keep = np.arange(n // 2 + 1)
    return keep / n, total[keep] / np.maximum(count[keep], 1)


def image_sharpness(generated, observed, band=HIGH_FREQUENCY_BAND):
    """Total-flux ratio and high-frequency power ratio of generated to observed.

    Parameters
    ----------
    generated, observed : array_like
        ``(N, N)`` images in DN/s on the common grid.
    band : (float, float)
        Spatial frequencies (cycles per pixel after the paper's binning)
        whose power is summed: the upper half of the range by default.

    Returns
    -------
    dict
        ``{"FLUX": sum(generated) / sum(observed), "HFP": P_gen / P_obs}``:
        FLUX over the disk values of :func:`prepare_for_metrics`; HFP the
        ratio of the power of :func:`radial_power_spectrum` summed over
        ``band``.  A blurred image has HFP below 1.
    """
    gen, obs = prepare_for_metrics(generated), prepare_for_metrics(observed)
    freq, p_gen = radial_power_spectrum(generated)
    _, p_obs = radial_power_spectrum(observed)
    sel = (freq >= band[0]) & (freq <= band[1])
    denom = float(p_obs[sel].sum())
    return {"FLUX": float(gen.sum() / obs.sum()),
            "HFP": float(p_gen[sel].sum()) / denom if denom > 0 else float("nan")}


@dataclass
class MetricAccumulator:
    """Per-passband metrics accumulated over a set of images.

    Examples
    --------
    >>> acc = MetricAccumulator()
    >>> acc.add("171", generated, observed)   # doctest: +SKIP
    >>> acc.summary()["171"]["CC"]            # doctest: +SKIP
    """

    values: dict = field(default_factory=dict)

    def add(self, passband, generated, observed):
        """Add one image pair of ``passband``; returns its metrics (paper's and sharpness)."""
        result = {**image_metrics(generated, observed),
                  **image_sharpness(generated, observed)}
        per_band = self.values.setdefault(str(passband),
                                          {k: [] for k in METRIC_NAMES + SHARPNESS_NAMES})
        for key in METRIC_NAMES + SHARPNESS_NAMES:
            per_band[key].append(result[key])
        return result

    def summary(self):
        """``{passband: {metric: mean, metric + "_std": std, "n": count}}``."""
        out = {}
        for band, per_band in self.values.items():
            row = {}
            for key in METRIC_NAMES + SHARPNESS_NAMES:
                v = np.asarray(per_band[key], dtype=np.float64)
                row[key] = float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
                row[key + "_std"] = float(np.nanstd(v)) if np.isfinite(v).any() \
                    else float("nan")
            row["n"] = len(per_band["CC"])
            out[band] = row
        return out
