"""The synthetic Sun's mixed-polarity network, on latitude-longitude maps.

Lanes of about 80 G along the zero contours of a supergranule-scale random
field (cells of about 30 Mm), with clumpy strength; the polarity is random
on a 3 deg scale with a bias from a 27-day large-scale pattern and from the
polar fields (about 6 G plus unipolar network above ~60 deg; at the start
of a cycle the north pole has the sign of that cycle's northern leading
polarity, reversing over two years centred 5.5 yr into the cycle), so that
some areas are unipolar (these become coronal holes).  The pattern is
renewed every 2 days, smoothly (two random maps blended with cosine
weights).  The maps also carry the plage texture that concentrates active-
region plage into the network.
"""
from functools import lru_cache

import numpy as np
from scipy import ndimage

from solar_euv.synthetic.cycle import MJD_2000, polar_field_sign, synodic_rotation_rate

__all__ = ["MAP_RES", "network_maps", "network_maps_exact", "sample_map"]

MAP_RES = 0.5                # deg per cell of the network map
"""Cell size (deg) of the network maps."""

_NETWORK_EPOCH_DAYS = 2.0    # supergranular network renewal
_LARGE_EPOCH_DAYS = 27.0     # large-scale polarity pattern renewal
_LARGE_RES = 2.0             # deg per cell of the large-scale map


def _smooth_random(rng, shape, sigma, wrap_lon=True):
    field = rng.standard_normal(shape).astype(np.float32)
    mode = ("nearest", "wrap") if wrap_lon else "nearest"
    field = ndimage.gaussian_filter(field, sigma, mode=mode, truncate=3.0)
    return field / max(float(field.std()), 1e-12)


@lru_cache(maxsize=8)
def _small_scale_maps(seed, epoch):
    nlat, nlon = int(180 / MAP_RES), int(360 / MAP_RES)
    rng = np.random.default_rng([int(seed), int(epoch), 22])
    cells = _smooth_random(rng, (nlat, nlon), 1.2 / MAP_RES)
    clumps = _smooth_random(rng, (nlat, nlon), 0.4 / MAP_RES)
    polarity = _smooth_random(rng, (nlat, nlon), 2.0 / MAP_RES)
    return cells, clumps, polarity


@lru_cache(maxsize=8)
def _large_scale_map(seed, epoch):
    nlat, nlon = int(180 / _LARGE_RES), int(360 / _LARGE_RES)
    rng = np.random.default_rng([int(seed), int(epoch), 33])
    return _smooth_random(rng, (nlat, nlon), 12.0 / _LARGE_RES)


def sample_map(field, res, lat_deg, lon_deg):
    """Bilinear lookup of a lat-lon map (cell ``res`` deg) at arrays of (lat, lon)."""
    rows = (lat_deg + 90.0) / res - 0.5
    cols = np.mod(lon_deg, 360.0) / res - 0.5
    return ndimage.map_coordinates(field, np.stack([rows, cols]), order=1,
                                   mode="grid-wrap")


def _shift_rows(field, shift):
    """``out[r, c] = field[r, c + shift[r]]``, linear in the fractional part, wrapping."""
    n = field.shape[1]
    whole = np.floor(shift).astype(int)
    frac = (shift - whole).astype(np.float32)[:, None]
    idx = (np.arange(n)[None, :] + whole[:, None]) % n
    left = np.take_along_axis(field, idx, axis=1)
    right = np.take_along_axis(field, (idx + 1) % n, axis=1)
    return left + frac * (right - left)


def network_maps(seed, mjd):
    """Network ``B_r`` and plage texture at ``mjd`` (cached at 0.01-day resolution).

    See :func:`network_maps_exact`; the pattern evolves over days, so images
    taken within 15 minutes of each other share one evaluation.
    """
    return _network_maps_cached(int(seed), round(float(mjd), 2))


@lru_cache(maxsize=4)
def _network_maps_cached(seed, mjd):
    return network_maps_exact(seed, mjd)


def network_maps_exact(seed, mjd):
    """Network ``B_r`` (G) and a plage texture (mean ~1) on a 0.5 deg lat-lon grid.

    Returns ``(b_network, texture, t_ref)``.  Row 0 is latitude
    ``-90 + 0.25`` deg, column 0 longitude 0.25 deg, in the frame where each
    latitude rotates at its own rate and which coincides with Stonyhurst
    longitude at ``t_ref`` (MJD; the start of the current 2-day epoch): a feature at
    map longitude ``L`` is at ``L + rate(lat) * (t - t_ref)`` at time ``t``.

    Every random map belongs to an epoch (two days for the network, 27 days for
    the large-scale pattern) and is fixed in the rotating frame of its own
    epoch start; consecutive epochs are blended with weights ``cos, sin`` of
    ``pi/2`` times the phase, which keeps the variance constant and the field
    continuous in time.
    """
    days = mjd - MJD_2000
    k = int(np.floor(days / _NETWORK_EPOCH_DAYS))
    t_k = k * _NETWORK_EPOCH_DAYS
    theta = 0.5 * np.pi * (days / _NETWORK_EPOCH_DAYS - k)
    nlat = int(180 / MAP_RES)
    lat_c = -90.0 + (np.arange(nlat) + 0.5) * MAP_RES
    rate = synodic_rotation_rate(lat_c)

    a = _small_scale_maps(seed, k)
    b = [_shift_rows(m, rate * _NETWORK_EPOCH_DAYS / MAP_RES)
         for m in _small_scale_maps(seed, k + 1)]
    c, s = np.float32(np.cos(theta)), np.float32(np.sin(theta))
    cells, clumps, pol_small = (c * x + s * y for x, y in zip(a, b))

    kl = int(np.floor(days / _LARGE_EPOCH_DAYS))
    phase = 0.5 * np.pi * (days / _LARGE_EPOCH_DAYS - kl)
    ratio = int(round(_LARGE_RES / MAP_RES))
    large = 0.0
    for j, w in ((kl, np.cos(phase)), (kl + 1, np.sin(phase))):
        t_j = j * _LARGE_EPOCH_DAYS
        fine = ndimage.zoom(_large_scale_map(seed, j), ratio, order=1, mode="grid-wrap",
                            grid_mode=True)
        large = large + np.float32(w) * _shift_rows(fine, rate * (t_k - t_j) / MAP_RES)

    lat = np.radians(lat_c)[:, None]
    polar = float(polar_field_sign(mjd)) * np.sign(lat) * np.abs(np.sin(lat)) ** 7
    lanes = np.exp(-(cells * np.float32(1.0 / 0.22)) ** 2)
    strength = lanes * (0.45 + 0.55 * np.abs(clumps))
    bias = 0.35 * large + 1.5 * polar
    polarity = np.tanh(2.0 * (pol_small + bias))
    b_network = 80.0 * strength * polarity + 6.0 * polar
    texture = 0.25 + 2.0 * lanes * (0.4 + 0.6 * np.abs(clumps))
    return (b_network.astype(np.float32), texture.astype(np.float32),
            MJD_2000 + t_k)

