"""Forward models of the synthetic Sun: magnetogram -> AIA intensity (DN/s) per passband.

Every model works on the common grid (``N x N``, north up, radius
``392 N / 1024`` px, see :mod:`solar_euv.scaling`) and returns the
*noise-free, predictable* intensity in degradation-corrected DN/s, which is
what a perfect magnetogram-to-AIA model could reach (the "oracle").  The
unpredictable part (:func:`unpredictable_factor`) and the instrument (roll,
plate scale, degradation, exposure, photon noise) are applied afterwards by
:mod:`solar_euv.sdo.synthetic`.

Two families:

* UV / chromosphere (1700, 1600, 304): intensity rises with the small-scale
  unsigned field ``|B|`` (network and plage are bright, saturating as
  ``tanh(|B| / B_sat)``), umbrae (``|B| > ~1 kG``) are dark, the disk is
  limb-darkened ``1 - u (1 - mu)``; off the limb only a sharp edge and
  scattered light (304: a spicule ring decaying over 0.04 R plus a faint
  0.15 R halo).
* Corona (171, 193, 211, 335, 94, 131): the field is continued upward as a
  potential field to a height ``h`` growing with the passband's formation
  temperature (FFT: multiply the transform by ``exp(-|k| h)``); intensity is
  ``I_qs (eps + x**alpha) / (eps + 1)`` with ``x = |B(h)| / B_q``; optically
  thin limb brightening ``sqrt((1 + d) / (mu**2 + d))``; off-limb emission is
  the limb's brightness at the same position angle decaying as
  ``0.7 exp(-(r - 1) / H) + 0.3 exp(-(r - 1) / 3H)`` with a
  temperature-dependent scale height ``H`` (the second term stands for the
  hotter, more extended streamer plasma);
  coronal holes darken weak-field areas where the large-scale field (smoothed
  over 0.1 R) is unipolar.

Levels were set against real AIA (2011-2017 degradation-corrected levels and
the ``../shared/real-sdo`` synoptic files): quiet-Sun disk-centre medians in
DN/s are about 1700: 900, 1600: 110, 304: 45, 171: 250, 193: 300, 211: 110,
335: 6, 94: 2.5, 131: 12.
"""
import numpy as np
from scipy import fft as sfft
from scipy import ndimage

from solar_euv.passbands import get_passband
from solar_euv.scaling import disk_center_px, solar_radius_px

__all__ = [
    "ModelInputs",
    "FORWARD_MODELS",
    "QUIET_SUN_LEVEL",
    "DYNAMIC_RANGE",
    "UNPREDICTABLE_RMS",
    "forward_model",
    "unpredictable_factor",
    "model_1700",
    "model_1600",
    "model_304",
    "model_171",
    "model_193",
    "model_211",
    "model_335",
    "model_94",
    "model_131",
]

UNPREDICTABLE_RMS = 0.15
"""rms of the log-normal multiplicative modulation the magnetogram cannot predict."""


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


class ModelInputs:
    """The magnetogram and geometry on the common grid, with cached derived fields.

    Parameters
    ----------
    br : numpy.ndarray
        Radial field (G) on the common ``N x N`` grid, NaN off the disk.
    mu : numpy.ndarray
        Cosine of the heliocentric angle (0 off the disk).
    spot : numpy.ndarray
        Sunspot part of ``|B_r|`` (G).
    """

    def __init__(self, br, mu, spot):
        self.size = br.shape[0]
        self.on = np.isfinite(br)
        self.b = np.nan_to_num(br, nan=0.0).astype(np.float32)
        self.abs_b = np.abs(self.b)
        self.mu = mu.astype(np.float32)
        self.spot = spot.astype(np.float32)
        self.radius = solar_radius_px(self.size)
        c = disk_center_px(self.size)
        yy, xx = np.ogrid[0:self.size, 0:self.size]
        self.dx = ((xx - c) / self.radius).astype(np.float32)
        self.dy = ((yy - c) / self.radius).astype(np.float32)
        self.rho = np.sqrt(self.dx ** 2 + self.dy ** 2).astype(np.float32)
        ky = sfft.fftfreq(self.size)[:, None]
        kx = sfft.rfftfreq(self.size)[None, :]
        # |k| in radians per solar radius
        self.kmag = (2.0 * np.pi * np.sqrt(kx ** 2 + ky ** 2) * self.radius).astype(np.float32)
        self._cache = {}

    def _fft(self, name, field):
        if name not in self._cache:
            self._cache[name] = sfft.rfft2(field, workers=1)
        return self._cache[name]

    def _filtered(self, name, field, transfer):
        out = sfft.irfft2(self._fft(name, field) * transfer, s=field.shape, workers=1)
        return out.astype(np.float32)

    def field_at_height(self, h):
        """``|B_z|`` (G) of the potential field continued up to ``h`` solar radii."""
        key = ("h", h)
        if key not in self._cache:
            field = self._filtered("b", self.b, np.exp(-self.kmag * np.float32(h)))
            self._cache[key] = np.abs(field)
        return self._cache[key]

    def smooth_abs_b(self, sigma):
        """``|B|`` smoothed with a Gaussian of ``sigma`` solar radii."""
        key = ("sabs", sigma)
        if key not in self._cache:
            transfer = np.exp(-0.5 * (self.kmag * np.float32(sigma)) ** 2)
            self._cache[key] = self._filtered("absb", self.abs_b, transfer)
        return self._cache[key]

    def coronal_hole(self):
        """0..1: weak-field areas whose field, smoothed over 0.1 R, is unipolar."""
        if "ch" not in self._cache:
            transfer = np.exp(-0.5 * (self.kmag * np.float32(0.1)) ** 2)
            signed = np.abs(self._filtered("b", self.b, transfer))
            unsigned = self.smooth_abs_b(0.1)
            unipolar = signed / (unsigned + 1.0)
            weak = 1.0 - _smoothstep((unsigned - 12.0) / 20.0)
            ch = _smoothstep((unipolar - 0.5) / 0.25) * weak
            self._cache["ch"] = np.where(self.on, ch, 0.0).astype(np.float32)
        return self._cache["ch"]

    def limb_profile(self, image, radius=0.985, width_deg=2.0):
        """Brightness of ``image`` on the circle ``radius`` as a function of position angle.

        Returns a function of arrays ``(dx, dy)`` giving the profile value at
        each point's position angle (smoothed over ``width_deg``).
        """
        n_ang = 1440
        ang = np.arange(n_ang) * (2.0 * np.pi / n_ang)
        c = disk_center_px(self.size)
        rows = c + radius * self.radius * np.sin(ang)
        cols = c + radius * self.radius * np.cos(ang)
        prof = ndimage.map_coordinates(image, [rows, cols], order=1, mode="nearest")
        prof = ndimage.gaussian_filter1d(prof, width_deg / 360.0 * n_ang, mode="wrap")

        def at(dx, dy):
            a = np.mod(np.arctan2(dy, dx), 2.0 * np.pi) / (2.0 * np.pi) * n_ang
            return np.interp(a, np.arange(n_ang + 1), np.append(prof, prof[0]))

        return at


# ---------------------------------------------------------------------------
# Shared forms
# ---------------------------------------------------------------------------
def _chromospheric(inp, level, ld_u, gain, b_sat, umbra, ring, ring_h, halo, halo_h,
                   smooth=0.002):
    s = inp.smooth_abs_b(smooth) if smooth else inp.abs_b
    bright = 1.0 + gain * np.tanh(s / np.float32(b_sat))
    u = _smoothstep((inp.abs_b - 900.0) / 900.0)
    u = np.maximum(u, _smoothstep((inp.spot - 700.0) / 900.0))
    rel = bright * (1.0 - u) + umbra * u
    ld = 1.0 - ld_u * (1.0 - inp.mu)
    disk = level * rel * ld
    limb_level = level * (1.0 - ld_u)
    x = np.maximum(inp.rho - 1.0, 0.0)
    off = limb_level * (ring * np.exp(-x / np.float32(ring_h))
                        + halo * np.exp(-x / np.float32(halo_h)))
    return np.where(inp.on, disk, off).astype(np.float32)


def _coronal(inp, level, height, alpha, b_q, eps, ld_delta, scale_height, ch_depth,
             ar_cap):
    bh = inp.field_at_height(height)
    x = bh / np.float32(b_q)
    core = (eps + x ** np.float32(alpha)) / (eps + 1.0)
    core = core / (1.0 + core / np.float32(ar_cap))
    core = core * (1.0 - ch_depth * inp.coronal_hole())
    base = level * core
    delta = np.float32(ld_delta)
    lb = np.sqrt((1.0 + delta) / (inp.mu ** 2 + delta))
    disk = base * lb
    prof = inp.limb_profile(base)
    limb_gain = np.sqrt((1.0 + delta) / delta)
    off_mask = ~inp.on
    off = np.zeros_like(disk)
    rho_full = np.broadcast_to(inp.rho, disk.shape)
    dx_full = np.broadcast_to(inp.dx, disk.shape)
    dy_full = np.broadcast_to(inp.dy, disk.shape)
    x_off = np.maximum(rho_full[off_mask] - 1.0, 0.0)
    off[off_mask] = (prof(dx_full[off_mask], dy_full[off_mask]) * limb_gain
                     * (0.7 * np.exp(-x_off / scale_height)
                        + 0.3 * np.exp(-x_off / (3.0 * scale_height))))
    return np.where(inp.on, disk, off).astype(np.float32)


# ---------------------------------------------------------------------------
# One model per passband (docstrings state the physics)
# ---------------------------------------------------------------------------
def model_1700(inp):
    """1700 A: photospheric continuum near the temperature minimum (~4500 K).

    Strongly limb-darkened (u = 0.64) quiet Sun, network and plage up to ~2.5x
    brighter (tanh of |B| / 500 G), umbrae at 0.3 of the quiet Sun; off the
    limb only a sharp edge and a scattered-light halo (~6 % at 1.1 R).
    """
    return _chromospheric(inp, 900.0, 0.64, 1.6, 500.0, 0.3, 0.08, 0.004, 0.25, 0.3)


def model_1600(inp):
    """1600 A: C IV and continuum from the upper photosphere / low chromosphere (~10^4 K).

    Limb-darkened (u = 0.56); magnetic network and plage brighten more than at
    1700 (up to ~5x, tanh of |B| / 300 G); umbrae at 0.4 of the quiet Sun;
    off the limb a scattered-light halo as at 1700.
    """
    return _chromospheric(inp, 110.0, 0.56, 4.0, 300.0, 0.4, 0.10, 0.004, 0.2, 0.3)


def model_304(inp):
    """304 A: He II from the chromosphere-corona transition (~50 000 K).

    Nearly flat disk (u = 0.1), strong network and plage contrast (up to ~10x,
    tanh of |B| / 350 G), umbrae only mildly dark; off-limb a bright spicule
    ring (0.04 R scale) and a faint coronal halo (0.15 R).
    """
    return _chromospheric(inp, 45.0, 0.1, 9.0, 350.0, 0.8, 0.65, 0.04, 0.16, 0.15,
                          smooth=0.004)


def model_171(inp):
    """171 A: Fe IX, quiet corona and upper transition region (~0.6 MK).

    Field continued to 0.008 R (5.6 Mm), mild nonlinearity (alpha 1.2) so
    quiet Sun and active regions differ by ~20x; limb brightening (d = 0.25),
    off-limb scale height 0.05 R; coronal holes 60 % darker.
    """
    return _coronal(inp, 250.0, 0.008, 1.2, 5.0, 0.6, 0.25, 0.05, 0.6, 40.0)


def model_193(inp):
    """193 A: Fe XII, the 1-1.5 MK corona.

    Field continued to 0.012 R (8 Mm), nonlinearity alpha 1.4, strong limb
    brightening (d = 0.15), off-limb scale height 0.065 R; coronal holes are
    deep (85 % darker), as in real 193 images.
    """
    return _coronal(inp, 300.0, 0.012, 1.4, 5.0, 0.8, 0.15, 0.065, 0.85, 35.0)


def model_211(inp):
    """211 A: Fe XIV, active-region corona (~2 MK).

    Field continued to 0.016 R (11 Mm), steeper response (alpha 1.6) so active
    regions stand out ~30x; limb brightening (d = 0.18), off-limb scale height
    0.075 R; coronal holes 85 % darker.
    """
    return _coronal(inp, 110.0, 0.016, 1.6, 4.8, 0.8, 0.18, 0.075, 0.85, 45.0)


def model_335(inp):
    """335 A: Fe XVI, hot active-region corona (~2.5 MK).

    Field continued to 0.022 R (15 Mm), steep response (alpha 1.9): faint quiet
    Sun, active regions ~50x brighter; off-limb scale height 0.09 R; coronal
    holes 75 % darker.
    """
    return _coronal(inp, 6.0, 0.022, 1.9, 4.4, 0.8, 0.25, 0.09, 0.75, 50.0)


def model_94(inp):
    """94 A: Fe XVIII, hot active-region cores (~6 MK) over a faint Fe X quiet Sun.

    Field continued to 0.028 R (19 Mm), steepest response (alpha 2.2): only
    strong active-region field shines (up to ~60x quiet Sun); limb
    brightening d = 0.25, off-limb scale height 0.1 R; coronal holes 60 % darker.
    """
    return _coronal(inp, 2.5, 0.028, 2.2, 4.0, 1.0, 0.25, 0.10, 0.6, 80.0)


def model_131(inp):
    """131 A: Fe VIII transition region (0.4 MK) plus Fe XXI flare plasma (~10 MK).

    Field continued to 0.034 R (24 Mm) with alpha 1.8: a 171-like faint quiet
    Sun and bright hot active-region cores (~40x); limb brightening d = 0.3,
    off-limb scale height 0.06 R; coronal holes 60 % darker.
    """
    return _coronal(inp, 12.0, 0.034, 1.8, 3.6, 1.0, 0.3, 0.06, 0.6, 50.0)


DYNAMIC_RANGE = {"1700": (1.1, 4.0), "1600": (1.5, 8.0), "304": (2.0, 15.0),
                 "171": (8.0, 80.0), "193": (8.0, 80.0), "211": (10.0, 100.0),
                 "335": (15.0, 200.0), "94": (15.0, 200.0), "131": (8.0, 100.0)}
"""Documented band of each passband's dynamic range in the noise-free truth.

The ratio of the 99.9th percentile of on-disk pixels (inside 0.98 R; active
regions) to the disk-centre median (inside 0.5 R; quiet Sun) lies in this band
at any date of 2011-2017 and any seed (real AIA near solar maximum: 1700 ~2.5,
1600 ~2.5, 304 ~15, 171 ~22, 193 ~17, 211 ~18, 335 ~27, 131 ~29); the
disk-centre median itself is within 0.6-1.6 times :data:`QUIET_SUN_LEVEL`.
"""

FORWARD_MODELS = {
    "1700": model_1700, "1600": model_1600, "304": model_304,
    "171": model_171, "193": model_193, "211": model_211,
    "335": model_335, "94": model_94, "131": model_131,
}
"""Passband name -> forward model ``f(ModelInputs) -> DN/s array``."""

QUIET_SUN_LEVEL = {"1700": 900.0, "1600": 110.0, "304": 45.0, "171": 250.0,
                   "193": 300.0, "211": 110.0, "335": 6.0, "94": 2.5, "131": 12.0}
"""Nominal quiet-Sun disk-centre intensity (DN/s, degradation-corrected) per passband."""


def forward_model(inputs, passband):
    """Noise-free intensity (DN/s, float32, common grid) of ``passband`` for ``inputs``."""
    return FORWARD_MODELS[get_passband(passband).name](inputs)


# Sensitivity of each passband to the unpredictable brightenings (relative).
_BRIGHTENING_WEIGHT = {"1700": 0.3, "1600": 0.8, "304": 1.0, "171": 0.8, "193": 0.8,
                       "211": 1.0, "335": 1.2, "94": 2.0, "131": 2.0}


def unpredictable_factor(rng_seed, size, passbands):
    """Multiplicative fields the magnetogram cannot predict, one per passband.

    ``factor = exp(0.15 n - 0.15**2 / 2) * (1 + w_p sum_i A_i g_i)`` where ``n``
    is a unit-variance Gaussian random field on ~0.02 R (14 Mm) scales
    (unresolved heating and thermal structure, 15 % rms, shared by all
    passbands), and ``g_i`` are ~Poisson(30) brightenings per image (bright
    points, small flares: Gaussian blobs of 0.003-0.01 R, peak amplitude
    ``A_i`` log-normal with median 1, i.e. doubling the local intensity)
    weighted per passband by ``w_p`` (0.3 at 1700 up to 2 at 94 and 131).

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
    transfer = np.exp(-0.5 * (k * 0.02) ** 2).astype(np.float32)
    n = sfft.irfft2(sfft.rfft2(white, workers=1) * transfer, s=white.shape, workers=1)
    n /= max(float(n.std()), 1e-12)
    modulation = np.exp(UNPREDICTABLE_RMS * n - 0.5 * UNPREDICTABLE_RMS ** 2)

    count = rng.poisson(30)
    c = disk_center_px(size)
    blobs = np.zeros((size, size), dtype=np.float32)
    r = np.sqrt(rng.random(count)) * 0.98 * radius
    phi = rng.uniform(0.0, 2.0 * np.pi, count)
    sig = rng.uniform(0.003, 0.01, count) * radius
    amp = rng.lognormal(0.0, 0.7, count)
    for ri, pi, si, ai in zip(r, phi, sig, amp):
        xc, yc = c + ri * np.cos(pi), c + ri * np.sin(pi)
        half = int(np.ceil(3.5 * max(si, 0.5))) + 1
        i0, i1 = max(int(xc) - half, 0), min(int(xc) + half + 2, size)
        j0, j1 = max(int(yc) - half, 0), min(int(yc) + half + 2, size)
        yy, xx = np.ogrid[j0:j1, i0:i1]
        s2 = 2.0 * max(si, 0.5) ** 2
        blobs[j0:j1, i0:i1] += ai * np.exp(-((xx - xc) ** 2 + (yy - yc) ** 2) / s2)
    return {p: (modulation * (1.0 + _BRIGHTENING_WEIGHT[p] * blobs)).astype(np.float32)
            for p in passbands}
