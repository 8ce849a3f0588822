"""Forward models of the synthetic Sun: magnetogram -> AIA intensity (DN/s) per passband.

Every model works on the common grid (``N x N``, north up, radius
``392 N / 1024`` px, see :mod:`solar_euv.scaling`) and returns the
*noise-free, predictable* intensity in degradation-corrected DN/s, which is
what a perfect magnetogram-to-AIA model could reach (the "oracle").  The
unpredictable part
(:func:`~solar_euv.synthetic.unpredictable.unpredictable_factor`) and the
instrument (roll, plate scale, degradation, exposure, photon noise) are
applied afterwards by :mod:`solar_euv.synthetic.sun`.

Two families:

* UV / chromosphere (1700, 1600, 304): intensity rises with the unsigned
  field ``|B|`` smoothed over 0.008-0.01 R (6-7 Mm: the chromospheric
  canopy spreads the network emission; network and plage are bright,
  saturating as ``tanh(|B| / B_sat)``), umbrae (``|B| > ~1 kG``) are dark,
  the disk is limb-darkened ``1 - u (1 - mu)``; off the limb only a sharp
  edge and scattered light (304: a spicule ring decaying over 0.04 R plus a
  faint 0.15 R halo).
* Corona (171, 193, 211, 335, 94, 131): the field is continued upward as a
  potential field to a height ``h`` (0.03-0.06 R, 21-42 Mm) growing with the
  passband's formation temperature (FFT: the transform of the radial field
  times ``exp(-|k| h)``, horizontal components from ``-i k / |k|``);
  intensity is ``I_qs (eps + x**alpha) / (eps + 1)`` with ``x = |B(h)| /
  B_q``, the total field strength at that height (no dark lanes over
  polarity inversion lines), a floor ``eps`` of 1.5-2 and ``alpha`` of
  2.2-3.5 (steeper for hotter passbands), saturating towards ``ar_cap``;
  optically thin limb brightening ``sqrt((1 + d) / (mu**2 + d))``; off-limb
  emission is the limb's brightness at the same position angle decaying as
  ``0.7 exp(-(r - 1) / H) + 0.3 exp(-(r - 1) / 3H)`` with a
  temperature-dependent scale height ``H`` (the second term stands for the
  hotter, more extended streamer plasma);
  coronal holes darken weak-field areas where the large-scale field (smoothed
  over 0.1 R) is unipolar.

Predictable and unpredictable variance (model version 2).  At the sizes the
networks train on (128-256 px; one 128 px pixel is 0.02 R = 14 Mm) most of
each passband's on-disk variance follows from structures the magnetogram
resolves: active regions, plage, the network's polarity pattern, limb
darkening or brightening.  The part it cannot predict is
:func:`~solar_euv.synthetic.unpredictable.unpredictable_factor`: a
log-normal modulation whose rms
(:data:`~solar_euv.synthetic.unpredictable.UNPREDICTABLE_RMS`) is small in
the UV, where the emission is tied to the photospheric field (4 % at 1700,
on the 14 Mm network scale), and large in the corona, where which loop
systems are heated is not fixed by the field below (33-38 % on 28 Mm
scales), plus ~30 random brightenings.
On the 128 px grid the paper's CC between the noise-free truth and the
observed image (the "oracle", :data:`ORACLE_CC`) is about 0.98 (1700), 0.96
(1600), 0.93 (304) and 0.87-0.94 in the coronal channels
(``benchmarks/synthetic_learnability.py``), the order of Park et al.
(2019)'s scores on real data; photon noise and the instrument lower it by
less than 0.01.  Version 1 had the opposite order (1700 0.82, corona ~0.98):
a 15 % modulation swamped the UV's small contrast, and the corona, made
from ``|B_z|`` only 6-24 Mm up, was dominated by network-scale mottling
with dark lanes over every polarity inversion line.

Levels were set against real AIA (2011-2017 degradation-corrected levels and
the ``../shared/real-sdo`` synoptic files): quiet-Sun disk-centre medians in
DN/s are about 1700: 900, 1600: 110, 304: 45, 171: 250, 193: 300, 211: 110,
335: 6, 94: 2.5, 131: 12.
"""
import numpy as np

from solar_euv.passbands import get_passband
from solar_euv.synthetic.inputs import smoothstep

__all__ = [
    "FORWARD_MODELS",
    "QUIET_SUN_LEVEL",
    "DYNAMIC_RANGE",
    "ORACLE_CC",
    "forward_model",
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


# ---------------------------------------------------------------------------
# Shared forms
# ---------------------------------------------------------------------------
def _chromospheric(inp, level, ld_u, gain, b_sat, umbra, ring, ring_h, halo, halo_h,
                   smooth=0.002):
    s = inp.smooth_abs_b(smooth) if smooth else inp.abs_b
    bright = 1.0 + gain * np.tanh(s / np.float32(b_sat))
    u = smoothstep((inp.abs_b - 900.0) / 900.0)
    u = np.maximum(u, smoothstep((inp.spot - 700.0) / 900.0))
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
    brighter (tanh of ``|B|`` / 500 G, ``|B|`` smoothed over 0.008 R), umbrae at 0.3
    of the quiet Sun; off the limb only a sharp edge and a scattered-light
    halo (~6 % at 1.1 R).  Unpredictable part: 4 % modulation, brightenings
    at weight 0.3 (oracle CC ~0.97 at 128 px).
    """
    return _chromospheric(inp, 900.0, 0.64, 1.6, 500.0, 0.3, 0.08, 0.004, 0.25, 0.3,
                          smooth=0.008)


def model_1600(inp):
    """1600 A: C IV and continuum from the upper photosphere / low chromosphere (~10^4 K).

    Limb-darkened (u = 0.56); magnetic network and plage brighten more than at
    1700 (up to ~5x, tanh of ``|B|`` / 300 G, ``|B|`` smoothed over 0.01 R); umbrae
    at 0.4 of the quiet Sun; off the limb a scattered-light halo as at 1700.
    Unpredictable part: 5 % modulation, brightenings at weight 0.8 (oracle
    CC ~0.95).
    """
    return _chromospheric(inp, 110.0, 0.56, 4.0, 300.0, 0.4, 0.10, 0.004, 0.2, 0.3,
                          smooth=0.01)


def model_304(inp):
    """304 A: He II from the chromosphere-corona transition (~50 000 K).

    Nearly flat disk (u = 0.1), strong network and plage contrast (up to ~10x,
    tanh of ``|B|`` / 350 G, ``|B|`` smoothed over 0.008 R), umbrae only mildly
    dark; off-limb a bright spicule ring (0.04 R scale) and a faint coronal
    halo (0.15 R).  Unpredictable part: 9 % modulation, brightenings at
    weight 1 (oracle CC ~0.92).
    """
    return _chromospheric(inp, 45.0, 0.1, 9.0, 350.0, 0.8, 0.65, 0.04, 0.16, 0.15,
                          smooth=0.008)


def model_171(inp):
    """171 A: Fe IX, quiet corona and upper transition region (~0.6 MK).

    Field strength of the potential field at 0.03 R (21 Mm), floor eps = 1.5,
    alpha 2.2, B_q = 8 G, capped at 20, so active regions are ~10-20x the quiet
    Sun; limb brightening (d = 0.25), off-limb scale height 0.05 R; coronal
    holes 60 % darker. Unpredictable part: 36 % modulation on 0.04 R,
    brightenings at weight 0.8 (oracle CC ~0.88 at 128 px, the lowest with 131:
    171 is the paper's hardest passband).
    """
    return _coronal(inp, 250.0, 0.03, 2.2, 8.0, 1.5, 0.25, 0.05, 0.6, 20.0)


def model_193(inp):
    """193 A: Fe XII, the 1-1.5 MK corona.

    Field at 0.035 R (24 Mm), eps = 1.5, alpha 2.4, B_q = 7.2 G, capped at 20
    (active regions ~10-25x the quiet Sun), strong limb brightening (d = 0.15),
    off-limb scale height 0.065 R; coronal holes are deep (85 % darker), as in
    real 193 images. Unpredictable part: 33 % modulation, brightenings at weight
    0.8 (oracle CC ~0.91).
    """
    return _coronal(inp, 300.0, 0.035, 2.4, 7.2, 1.5, 0.15, 0.065, 0.85, 20.0)


def model_211(inp):
    """211 A: Fe XIV, active-region corona (~2 MK).

    Field at 0.04 R (28 Mm), eps = 1.5, steeper response (alpha 2.6, B_q = 6.6
    G, capped at 30) so active regions stand out ~10-35x; limb brightening (d =
    0.18), off-limb scale height 0.075 R; coronal holes 85 % darker.
    Unpredictable part: 33 % modulation, brightenings at weight 1 (oracle CC
    ~0.93).
    """
    return _coronal(inp, 110.0, 0.04, 2.6, 6.6, 1.5, 0.18, 0.075, 0.85, 30.0)


def model_335(inp):
    """335 A: Fe XVI, hot active-region corona (~2.5 MK).

    Field at 0.05 R (35 Mm), eps = 1.5, steep response (alpha 3.2, B_q = 5.6 G,
    capped at 30): faint quiet Sun, active regions ~12-40x brighter; off-limb
    scale height 0.09 R; coronal holes 75 % darker. Unpredictable part: 36 %
    modulation, brightenings at weight 1.2 (oracle CC ~0.93).
    """
    return _coronal(inp, 6.0, 0.05, 3.2, 5.6, 1.5, 0.25, 0.09, 0.75, 30.0)


def model_94(inp):
    """94 A: Fe XVIII, hot active-region cores (~6 MK) over a faint Fe X quiet Sun.

    Field at 0.055 R (38 Mm), eps = 2, steepest response (alpha 3.5, B_q =
    5.2 G): only strong active-region field shines (up to ~70x quiet Sun);
    limb brightening d = 0.25, off-limb scale height 0.1 R; coronal holes
    60 % darker.  Unpredictable part: 38 % modulation, brightenings at
    weight 2 (oracle CC ~0.92).
    """
    return _coronal(inp, 2.5, 0.055, 3.5, 5.2, 2.0, 0.25, 0.10, 0.6, 80.0)


def model_131(inp):
    """131 A: Fe VIII transition region (0.4 MK) plus Fe XXI flare plasma (~10 MK).

    Field at 0.06 R (42 Mm), eps = 2, alpha 3.1, B_q = 4.9 G, capped at 25: a
    faint quiet Sun and bright hot active-region cores (~8-30x); limb
    brightening d = 0.3, off-limb scale height 0.06 R; coronal holes 60 %
    darker. Unpredictable part: 36 % modulation, brightenings at weight 2
    (oracle CC ~0.90).
    """
    return _coronal(inp, 12.0, 0.06, 3.1, 4.9, 2.0, 0.3, 0.06, 0.6, 25.0)


DYNAMIC_RANGE = {"1700": (1.1, 4.0), "1600": (1.5, 8.0), "304": (2.0, 15.0),
                 "171": (8.0, 80.0), "193": (8.0, 80.0), "211": (10.0, 100.0),
                 "335": (10.0, 200.0), "94": (10.0, 200.0), "131": (6.0, 100.0)}
"""Documented band of each passband's dynamic range in the noise-free truth.

The ratio of the 99.9th percentile of on-disk pixels (inside 0.98 R; active
regions) to the disk-centre median (inside 0.5 R; quiet Sun) lies in this band
at any date of 2011-2017 and any seed (real AIA near solar maximum: 1700 ~2.5,
1600 ~2.5, 304 ~15, 171 ~22, 193 ~17, 211 ~18, 335 ~27, 131 ~29); the
disk-centre median itself is within 0.6-1.6 times :data:`QUIET_SUN_LEVEL`.
Since model version 2 the coronal quiet Sun is lit by the total field
strength (horizontal field included), so at low activity (early 2011) the
hot channels reach only ~10-15 (lower edges of 335, 94, 131 lowered from 15,
15, 8).
"""

ORACLE_CC = {"1700": (0.95, 0.995), "1600": (0.92, 0.99), "304": (0.87, 0.985),
             "171": (0.70, 0.985), "193": (0.70, 0.985), "211": (0.70, 0.985),
             "335": (0.70, 0.985), "94": (0.70, 0.985), "131": (0.70, 0.985)}
"""Documented band of the "oracle" CC of each passband at the quick training size.

The paper's CC (:func:`solar_euv.metrics.image_metrics`) of the noise-free
truth (:meth:`~solar_euv.synthetic.sun.SyntheticSun.truth`,
``unpredictable=False``, 256 px averaged to 128 px) against the observed
image (the level-1 file prepared onto the 256 px grid and averaged to 128
px) lies in this band for any single image
of 2011-2017 and any seed.  Means over 24 dates and two seeds: 1700 0.98,
1600 0.97, 304 0.95, 171 0.91, 193 0.92, 211 0.93, 335 0.93, 94 0.93, 131
0.91; a coronal image with few active regions scores lowest (down to ~0.77),
because the unpredictable modulation then holds more of its variance.
"""

FORWARD_MODELS = {
    "1700": model_1700, "1600": model_1600, "304": model_304,
    "171": model_171, "193": model_193, "211": model_211,
    "335": model_335, "94": model_94, "131": model_131,
}
"""Passband name -> forward model ``f(inputs) -> DN/s array`` (``inputs``: a
:class:`~solar_euv.synthetic.inputs.ModelInputs`)."""

QUIET_SUN_LEVEL = {"1700": 900.0, "1600": 110.0, "304": 45.0, "171": 250.0,
                   "193": 300.0, "211": 110.0, "335": 6.0, "94": 2.5, "131": 12.0}
"""Nominal quiet-Sun disk-centre intensity (DN/s, degradation-corrected) per passband."""


def forward_model(inputs, passband):
    """Noise-free intensity (DN/s, float32, common grid) of ``passband`` for ``inputs``."""
    return FORWARD_MODELS[get_passband(passband).name](inputs)

