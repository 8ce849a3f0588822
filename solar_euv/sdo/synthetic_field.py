"""The synthetic Sun's photospheric magnetic field: a deterministic function of (seed, time).

The radial field ``B_r`` on the solar surface is the sum of three documented
ingredients, each a function of heliographic position and time only, so that
images 6 hours apart show the same structures rotated and evolved:

Active regions
    A seeded catalogue (:func:`regions_emerging`) draws, for every 27-day
    window, bipolar regions at a rate that follows the solar cycle
    (Hathaway's cycle shape, cycle 24 starting 2008.9).  Each region has a
    total flux per polarity of 1e21-1e22 Mx, a latitude following Spoerer's
    law (about 28 deg at cycle start drifting to about 8 deg), a Joy's-law
    tilt (``sin(tilt) = 0.5 sin|lat|`` plus 8 deg scatter, leading polarity
    nearer the equator), Hale's polarity (in even cycles such as 24 the leading
    polarity is negative in the north and positive in the south) and a
    polarity separation growing with flux (3-8 deg).  The flux rises over 1-3
    days; a compact sunspot holding 40 % (leading) or 28 % (following) of the
    flux, with an umbral peak of 2000-3000 G (the following spot 15 % weaker),
    decays over 4-24 days; the rest is plage that spreads by surface diffusion
    (100 km^2/s), decays over 30-90 days and is concentrated into the network
    (multiplied by the network texture).  Every Gaussian is averaged over the
    pixel it falls in, so smaller images show what binned data would.
    Regions and all features rotate at the Snodgrass differential rotation
    rate (synodic, as seen from Earth).
Mixed-polarity network
    Lanes of about 80 G along the zero contours of a supergranule-scale random
    field (cells of about 30 Mm), with clumpy strength; the polarity is random
    on a 3 deg scale with a bias from a 27-day large-scale pattern and from the
    polar fields (about 6 G plus unipolar network above ~60 deg; at the start
    of a cycle the north pole has the sign of that cycle's northern leading
    polarity, reversing over two years centred 5.5 yr into the cycle), so that
    some areas are unipolar (these become coronal holes).  The pattern
    is renewed every 2 days, smoothly (two random maps blended with cosine weights).
Noise
    Added by the instrument model (:mod:`solar_euv.sdo.synthetic`), not here.

Geometry: image-plane coordinates are in solar radii with ``x`` to solar west,
``y`` to solar north and ``z`` towards the observer, who sits at heliographic
latitude ``B0``.  Longitudes are Stonyhurst (0 at the central meridian).
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage

__all__ = [
    "RSUN_CM",
    "RegionParams",
    "cycle_activity",
    "cycle_number",
    "spoerer_latitude",
    "synodic_rotation_rate",
    "regions_emerging",
    "regions_near",
    "network_maps",
    "network_maps_exact",
    "heliographic",
    "radial_field",
]

RSUN_CM = 6.957e10
"""Solar radius in cm (IAU nominal), used to turn Mx into Gauss."""

_DAY = 86400.0
_MJD_2000 = 51544.0
_CHUNK_DAYS = 27.0           # region catalogue window
_NETWORK_EPOCH_DAYS = 2.0    # supergranular network renewal
_LARGE_EPOCH_DAYS = 27.0     # large-scale polarity pattern renewal
_MAX_AGE_DAYS = 240.0        # regions older than this are gone
_CYCLE24_START = 2008.9      # decimal year
_CYCLE_LENGTH = 11.0         # years
_MAP_RES = 0.5               # deg per cell of the network map
_LARGE_RES = 2.0             # deg per cell of the large-scale map
_PLAGE_BIN_MAX = 4           # plage evaluated on a grid up to this much coarser


# ---------------------------------------------------------------------------
# Solar cycle
# ---------------------------------------------------------------------------
def _decimal_year(mjd):
    return 2000.0 + (np.asarray(mjd, dtype=float) - _MJD_2000) / 365.25


def cycle_number(mjd):
    """Solar cycle number at time ``mjd`` (cycle 24 from 2008.9 to 2019.9)."""
    year = _decimal_year(mjd)
    return (24 + np.floor((year - _CYCLE24_START) / _CYCLE_LENGTH)).astype(int)


def _cycle_start(n):
    return _CYCLE24_START + (np.asarray(n) - 24) * _CYCLE_LENGTH


def _hathaway(months):
    """Hathaway (1994) cycle shape, b = 61 months, c = 0.71, peak normalised to 1."""
    b, c = 61.0, 0.71
    x = np.clip(np.asarray(months, dtype=float) / b, 0.0, None)
    f = x ** 3 / (np.exp(x ** 2) - c)
    xp = 1.0703  # position of the maximum for c = 0.71
    return f / (xp ** 3 / (np.exp(xp ** 2) - c))


def cycle_activity(mjd, cycle):
    """Relative emergence rate (0-1) of cycle ``cycle`` at time ``mjd``."""
    months = (_decimal_year(mjd) - _cycle_start(cycle)) * 12.0
    return np.where(months > 0, _hathaway(months), 0.0)


def spoerer_latitude(years_into_cycle):
    """Mean unsigned latitude (deg) of emergence: 28 deg at start, ~9 deg at the end."""
    return 6.0 + 22.0 * np.exp(-np.asarray(years_into_cycle, dtype=float) / 5.0)


def synodic_rotation_rate(lat_deg):
    """Snodgrass (1983) differential rotation, synodic (deg/day), latitude in deg."""
    s2 = np.sin(np.radians(lat_deg)) ** 2
    return 14.713 - 2.396 * s2 - 1.787 * s2 * s2 - 0.9856


def _polar_field_sign(mjd):
    """Sign-like factor (-1..1) of the north polar field; the south is opposite.

    At the start of cycle n the north polar field has the sign of cycle n's
    northern leading polarity (negative for even cycles); it reverses over
    about two years centred 5.5 yr into the cycle.
    """
    n = cycle_number(mjd)
    start_sign = np.where(n % 2 == 0, -1.0, 1.0)
    tau = _decimal_year(mjd) - _cycle_start(n)
    phase = np.clip((tau - 4.5) / 2.0, 0.0, 1.0)
    return start_sign * np.cos(np.pi * phase)


# ---------------------------------------------------------------------------
# Active-region catalogue
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionParams:
    """One bipolar active region of the catalogue (all angles in degrees).

    Attributes
    ----------
    t_emerge : float
        Emergence time (MJD, UTC).
    lat, lon : float
        Centre at emergence (Stonyhurst longitude at ``t_emerge``).
    flux : float
        Flux of each polarity at maximum (Mx).
    tilt : float
        Joy's-law tilt of the leading polarity towards the equator.
    lead_sign : float
        +1 or -1: sign of the leading (western) polarity.
    separation : float
        Final distance between the polarities (deg of heliographic arc).
    cycle : int
        The cycle the region belongs to.
    """

    t_emerge: float
    lat: float
    lon: float
    flux: float
    tilt: float
    lead_sign: float
    separation: float
    cycle: int

    @property
    def q(self):
        """Size parameter 0..1: ``log10(flux) - 21``."""
        return float(np.clip(np.log10(self.flux) - 21.0, 0.0, 1.0))


@lru_cache(maxsize=64)
def regions_emerging(seed, chunk):
    """The regions that emerge in 27-day window ``chunk`` (window 0 starts 2000-01-01).

    Deterministic in ``(seed, chunk)``; emergence rate ``2 * activity + 0.05``
    regions per day over the whole Sun.
    """
    rng = np.random.default_rng([int(seed), int(chunk) + 1_000_000, 11])
    t0 = _MJD_2000 + chunk * _CHUNK_DAYS
    mid = t0 + 0.5 * _CHUNK_DAYS
    n_now = int(cycle_number(mid))
    regions = []
    for cyc in (n_now - 1, n_now, n_now + 1):
        rate = 2.0 * float(cycle_activity(mid, cyc))
        if cyc == n_now:
            rate += 0.05
        count = rng.poisson(rate * _CHUNK_DAYS)
        for _ in range(count):
            t_e = t0 + rng.uniform(0.0, _CHUNK_DAYS)
            years = float(_decimal_year(t_e) - _cycle_start(cyc))
            hemi = 1.0 if rng.random() < 0.5 else -1.0
            lat = hemi * abs(rng.normal(spoerer_latitude(max(years, 0.0)), 4.0))
            lat = float(np.clip(lat, -45.0, 45.0))
            # flux: power law dN/dPhi ~ Phi^-1.5 between 1e21 and 1e22 Mx
            u = rng.random()
            a = -0.5
            flux = (1e21 ** a + u * (1e22 ** a - 1e21 ** a)) ** (1.0 / a)
            q = np.log10(flux) - 21.0
            tilt = np.degrees(np.arcsin(0.5 * np.sin(np.radians(abs(lat)))))
            tilt += rng.normal(0.0, 8.0)
            north_lead = -1.0 if cyc % 2 == 0 else 1.0
            lead_sign = north_lead if lat >= 0 else -north_lead
            regions.append(RegionParams(
                t_emerge=float(t_e), lat=lat, lon=float(rng.uniform(-180.0, 180.0)),
                flux=float(flux), tilt=float(tilt), lead_sign=float(lead_sign),
                separation=float(3.0 + 5.0 * q), cycle=int(cyc)))
    return tuple(regions)


def regions_near(seed, mjd):
    """All catalogue regions that emerged before ``mjd`` and may still carry flux."""
    first = int(np.floor((mjd - _MAX_AGE_DAYS - _MJD_2000) / _CHUNK_DAYS))
    last = int(np.floor((mjd - _MJD_2000) / _CHUNK_DAYS))
    out = []
    for chunk in range(first, last + 1):
        out.extend(r for r in regions_emerging(seed, chunk) if r.t_emerge <= mjd)
    return out


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _region_components(region, mjd):
    """Gaussian flux concentrations of one region at ``mjd``.

    Returns a list of ``(lat, lon, sigma_rad, peak_gauss, kind)`` with kind
    ``"spot"`` or ``"plage"``; empty once the region has decayed.
    """
    age = mjd - region.t_emerge
    q = region.q
    tau_rise = 1.0 + 2.0 * q
    tau_spot = 4.0 + 20.0 * q
    tau_plage = 30.0 + 60.0 * q
    rise = _smoothstep(age / tau_rise)
    after = max(age - tau_rise, 0.0)
    total = region.flux * rise * np.exp(-after / tau_plage)
    if total < 2e19:
        return []
    spot_decay = np.exp(-after / tau_spot)
    sep = np.radians(region.separation) * (0.4 + 0.6 * rise)
    tilt = np.radians(region.tilt)
    toward_equator = -np.sign(region.lat) if region.lat != 0 else -1.0
    comps = []
    for lead, share, peak_scale in ((1.0, 0.40, 1.0), (-1.0, 0.28, 0.85)):
        # leading polarity to the west and nearer the equator
        dlon = lead * 0.5 * sep * np.cos(tilt) / max(np.cos(np.radians(region.lat)), 0.3)
        dlat = lead * 0.5 * sep * np.sin(tilt) * toward_equator
        lat = region.lat + np.degrees(dlat)
        lon0 = region.lon + np.degrees(dlon)
        lon = lon0 + synodic_rotation_rate(lat) * age
        sign = region.lead_sign * lead
        spot_flux = share * region.flux * rise * spot_decay
        if spot_flux > 5e19:
            peak = (2000.0 + 1000.0 * q) * peak_scale * (spot_decay ** 0.25)
            sigma = np.sqrt(spot_flux / (2.0 * np.pi * peak)) / RSUN_CM
            comps.append((lat, lon, sigma, sign * peak, "spot"))
        else:
            spot_flux = 0.0
        plage_flux = max(total - spot_flux, 0.0)
        sigma_p = np.sqrt(np.radians(0.6 + 0.8 * q) ** 2 + 2.0 * 1.8e-5 * max(age, 0.0))
        peak_p = plage_flux / (2.0 * np.pi * (sigma_p * RSUN_CM) ** 2)
        comps.append((lat, lon, sigma_p, sign * peak_p, "plage"))
    return comps


# ---------------------------------------------------------------------------
# Network maps (latitude-longitude, in the frame rotating with the surface)
# ---------------------------------------------------------------------------
def _smooth_random(rng, shape, sigma, wrap_lon=True):
    field = rng.standard_normal(shape).astype(np.float32)
    mode = ("nearest", "wrap") if wrap_lon else "nearest"
    field = ndimage.gaussian_filter(field, sigma, mode=mode, truncate=3.0)
    return field / max(float(field.std()), 1e-12)


@lru_cache(maxsize=8)
def _small_scale_maps(seed, epoch):
    nlat, nlon = int(180 / _MAP_RES), int(360 / _MAP_RES)
    rng = np.random.default_rng([int(seed), int(epoch), 22])
    cells = _smooth_random(rng, (nlat, nlon), 1.2 / _MAP_RES)
    clumps = _smooth_random(rng, (nlat, nlon), 0.4 / _MAP_RES)
    polarity = _smooth_random(rng, (nlat, nlon), 2.0 / _MAP_RES)
    return cells, clumps, polarity


@lru_cache(maxsize=8)
def _large_scale_map(seed, epoch):
    nlat, nlon = int(180 / _LARGE_RES), int(360 / _LARGE_RES)
    rng = np.random.default_rng([int(seed), int(epoch), 33])
    return _smooth_random(rng, (nlat, nlon), 12.0 / _LARGE_RES)


def _sample_map(field, res, lat_deg, lon_deg):
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
    days = mjd - _MJD_2000
    k = int(np.floor(days / _NETWORK_EPOCH_DAYS))
    t_k = k * _NETWORK_EPOCH_DAYS
    theta = 0.5 * np.pi * (days / _NETWORK_EPOCH_DAYS - k)
    nlat = int(180 / _MAP_RES)
    lat_c = -90.0 + (np.arange(nlat) + 0.5) * _MAP_RES
    rate = synodic_rotation_rate(lat_c)

    a = _small_scale_maps(seed, k)
    b = [_shift_rows(m, rate * _NETWORK_EPOCH_DAYS / _MAP_RES)
         for m in _small_scale_maps(seed, k + 1)]
    c, s = np.float32(np.cos(theta)), np.float32(np.sin(theta))
    cells, clumps, pol_small = (c * x + s * y for x, y in zip(a, b))

    kl = int(np.floor(days / _LARGE_EPOCH_DAYS))
    phase = 0.5 * np.pi * (days / _LARGE_EPOCH_DAYS - kl)
    ratio = int(round(_LARGE_RES / _MAP_RES))
    large = 0.0
    for j, w in ((kl, np.cos(phase)), (kl + 1, np.sin(phase))):
        t_j = j * _LARGE_EPOCH_DAYS
        fine = ndimage.zoom(_large_scale_map(seed, j), ratio, order=1, mode="grid-wrap",
                            grid_mode=True)
        large = large + np.float32(w) * _shift_rows(fine, rate * (t_k - t_j) / _MAP_RES)

    lat = np.radians(lat_c)[:, None]
    polar = float(_polar_field_sign(mjd)) * np.sign(lat) * np.abs(np.sin(lat)) ** 7
    lanes = np.exp(-(cells * np.float32(1.0 / 0.22)) ** 2)
    strength = lanes * (0.45 + 0.55 * np.abs(clumps))
    bias = 0.35 * large + 1.5 * polar
    polarity = np.tanh(2.0 * (pol_small + bias))
    b_network = 80.0 * strength * polarity + 6.0 * polar
    texture = 0.25 + 2.0 * lanes * (0.4 + 0.6 * np.abs(clumps))
    return (b_network.astype(np.float32), texture.astype(np.float32),
            _MJD_2000 + t_k)


# ---------------------------------------------------------------------------
# Evaluation on an image grid
# ---------------------------------------------------------------------------
def heliographic(x, y, z, b0_deg):
    """Stonyhurst latitude and longitude (deg) of disk points (x, y, z) seen from B0."""
    b0 = np.radians(b0_deg)
    sb, cb = np.sin(b0), np.cos(b0)
    lat = np.degrees(np.arcsin(np.clip(y * cb + z * sb, -1.0, 1.0)))
    lon = np.degrees(np.arctan2(x, z * cb - y * sb))
    return lat, lon


def _observer_xyz(lat_deg, lon_deg, b0_deg):
    lat, lon, b0 = np.radians(lat_deg), np.radians(lon_deg), np.radians(b0_deg)
    xs = np.cos(lat) * np.sin(lon)
    ys = np.sin(lat)
    zs = np.cos(lat) * np.cos(lon)
    return xs, ys * np.cos(b0) - zs * np.sin(b0), ys * np.sin(b0) + zs * np.cos(b0)


def radial_field(seed, mjd, b0_deg, affine, shape):
    """Radial field ``B_r`` (G, float32, NaN off the disk) and ``mu`` on an image grid.

    Parameters
    ----------
    seed : int
        Catalogue seed.
    mjd : float
        Time (MJD, UTC).
    b0_deg : float
        Heliographic latitude of the observer.
    affine : (2, 3) array
        Maps 0-based pixel indices ``(col, row, 1)`` to image-plane ``(x, y)``
        in solar radii.
    shape : tuple of int
        ``(rows, cols)`` of the grid.

    Returns
    -------
    br, mu : numpy.ndarray
        ``mu`` is the cosine of the heliocentric angle (0 off the disk).
    spot : numpy.ndarray
        The sunspot part of ``|B_r|`` alone (G), used by the forward models.
    """
    affine = np.asarray(affine, dtype=float)
    rows, cols = shape
    jj, ii = np.mgrid[0:rows, 0:cols].astype(np.float32)
    x = (affine[0, 0] * ii + affine[0, 1] * jj + affine[0, 2]).astype(np.float32)
    y = (affine[1, 0] * ii + affine[1, 1] * jj + affine[1, 2]).astype(np.float32)
    del ii, jj
    rho2 = x * x + y * y
    on = rho2 < 1.0
    z = np.sqrt(np.clip(1.0 - rho2, 0.0, None)).astype(np.float32)

    br = np.zeros(shape, dtype=np.float32)
    spot = np.zeros(shape, dtype=np.float32)
    xo, yo, zo = x[on], y[on], z[on]
    lat, lon = heliographic(xo, yo, zo, b0_deg)
    b_net, texture, t_ref = network_maps(seed, mjd)
    lin = affine[:, :2]
    scale = np.sqrt(abs(np.linalg.det(lin)))          # solar radii per pixel
    pixel_deg = np.degrees(scale)
    if pixel_deg > _MAP_RES:
        # average over the pixel footprint (no aliasing of the thin lanes)
        width = np.sqrt((pixel_deg ** 2 - _MAP_RES ** 2) / 12.0) / _MAP_RES
        b_net = ndimage.gaussian_filter(b_net, width, mode=("nearest", "wrap"))
        texture = ndimage.gaussian_filter(texture, width, mode=("nearest", "wrap"))
    lon_map = lon - synodic_rotation_rate(lat) * (mjd - t_ref)
    net_on = _sample_map(b_net, _MAP_RES, lat, lon_map)
    tex_on = _sample_map(texture, _MAP_RES, lat, lon_map)
    br[on] = net_on
    tex = np.ones(shape, dtype=np.float32)
    tex[on] = tex_on
    del xo, yo, zo, lat, lon, lon_map, net_on, tex_on

    # Sunspots are evaluated on the grid itself; the smooth plage on a grid
    # up to 4x coarser (one coarse pixel per 512 px of image: 0.29 deg at
    # disk centre, plage sigma >= 0.6 deg), then interpolated and modulated by
    # the network texture.  Every Gaussian is averaged over its pixel.
    f = int(np.clip(max(rows, cols) // 512, 1, _PLAGE_BIN_MAX))
    crows, ccols = -(-rows // f), -(-cols // f)
    coarse = np.zeros((crows, ccols), dtype=np.float32)
    cj, ci = np.mgrid[0:crows, 0:ccols].astype(np.float32)
    off = 0.5 * (f - 1)
    cx = lin[0, 0] * (f * ci + off) + lin[0, 1] * (f * cj + off) + affine[0, 2]
    cy = lin[1, 0] * (f * ci + off) + lin[1, 1] * (f * cj + off) + affine[1, 2]
    cz = np.sqrt(np.clip(1.0 - cx * cx - cy * cy, 0.0, None))
    del ci, cj
    inv = np.linalg.inv(lin)
    for region in regions_near(seed, mjd):
        for lat_c, lon_c, sigma, peak, kind in _region_components(region, mjd):
            xc, yc, zc = _observer_xyz(lat_c, lon_c, b0_deg)
            if zc < -3.0 * sigma:
                continue
            ic, jc = inv @ (np.array([xc, yc]) - affine[:, 2])
            if kind == "spot":
                grid, (gx, gy, gz), step, off_c = br, (x, y, z), 1.0, 0.0
            else:
                grid, (gx, gy, gz), step, off_c = coarse, (cx, cy, cz), float(f), off
            ic, jc = (ic - off_c) / step, (jc - off_c) / step
            # Gaussian averaged over the pixel: variance + pixel^2 / 12, same flux
            var = sigma * sigma + (scale * step) ** 2 / 12.0
            peak = peak * sigma * sigma / var
            sigma = np.sqrt(var)
            half = 3.5 * sigma / (scale * step) + 1.0
            gr, gc = grid.shape
            i0, i1 = int(max(np.floor(ic - half), 0)), int(min(np.ceil(ic + half) + 1, gc))
            j0, j1 = int(max(np.floor(jc - half), 0)), int(min(np.ceil(jc + half) + 1, gr))
            if i0 >= i1 or j0 >= j1:
                continue
            box = (slice(j0, j1), slice(i0, i1))
            d2 = (gx[box] - xc) ** 2 + (gy[box] - yc) ** 2 + (gz[box] - zc) ** 2
            g = np.float32(peak) * np.exp(-d2 / np.float32(2.0 * sigma * sigma))
            grid[box] += g
            if kind == "spot":
                spot[box] += np.abs(g)
    jj, ii = np.mgrid[0:rows, 0:cols].astype(np.float32)
    plage = ndimage.map_coordinates(coarse, [(jj - off) / f, (ii - off) / f], order=1,
                                    mode="nearest")
    del jj, ii
    br += plage * tex
    mu = np.where(on, z, 0.0).astype(np.float32)
    br[~on] = np.nan
    spot[~on] = 0.0
    return br, mu, spot
