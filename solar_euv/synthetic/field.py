"""The synthetic Sun's photospheric magnetic field: a deterministic function of (seed, time).

The radial field ``B_r`` on the solar surface is the sum of three documented
ingredients, each a function of heliographic position and time only, so that
images 6 hours apart show the same structures rotated and evolved:

Active regions
    A seeded catalogue
    (:func:`solar_euv.synthetic.cycle.regions_emerging`) draws, for every
    27-day window, bipolar regions at a rate that follows the solar cycle
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
    Lanes of about 80 G along the zero contours of a supergranule-scale
    random field, partly unipolar (coronal holes), renewed every 2 days; see
    :mod:`solar_euv.synthetic.network`.
Noise
    Added by the instrument model (:mod:`solar_euv.synthetic.sun`), not here.

Geometry: image-plane coordinates are in solar radii with ``x`` to solar west,
``y`` to solar north and ``z`` towards the observer, who sits at heliographic
latitude ``B0``.  Longitudes are Stonyhurst (0 at the central meridian).

The catalogue and the solar cycle are in :mod:`solar_euv.synthetic.cycle`,
the network in :mod:`solar_euv.synthetic.network`; this module evaluates
the field on an image grid.
"""
import numpy as np
from scipy import ndimage

from solar_euv.synthetic.cycle import region_components, regions_near, synodic_rotation_rate
from solar_euv.synthetic.network import MAP_RES, network_maps, sample_map

__all__ = ["heliographic", "radial_field"]

_PLAGE_BIN_MAX = 4           # plage evaluated on a grid up to this much coarser


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
    if pixel_deg > MAP_RES:
        # average over the pixel footprint (no aliasing of the thin lanes)
        width = np.sqrt((pixel_deg ** 2 - MAP_RES ** 2) / 12.0) / MAP_RES
        b_net = ndimage.gaussian_filter(b_net, width, mode=("nearest", "wrap"))
        texture = ndimage.gaussian_filter(texture, width, mode=("nearest", "wrap"))
    lon_map = lon - synodic_rotation_rate(lat) * (mjd - t_ref)
    net_on = sample_map(b_net, MAP_RES, lat, lon_map)
    tex_on = sample_map(texture, MAP_RES, lat, lon_map)
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
        for lat_c, lon_c, sigma, peak, kind in region_components(region, mjd):
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
