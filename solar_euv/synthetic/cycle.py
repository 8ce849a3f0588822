"""The synthetic Sun's solar cycle and its catalogue of bipolar active regions.

A seeded catalogue (:func:`regions_emerging`) draws, for every 27-day
window, bipolar regions at a rate that follows the solar cycle (Hathaway's
cycle shape, cycle 24 starting 2008.9).  Each region has a total flux per
polarity of 1e21-1e22 Mx, a latitude following Spoerer's law (about 28 deg
at cycle start drifting to about 8 deg), a Joy's-law tilt
(``sin(tilt) = 0.5 sin|lat|`` plus 8 deg scatter, leading polarity nearer
the equator), Hale's polarity (in even cycles such as 24 the leading
polarity is negative in the north and positive in the south) and a polarity
separation growing with flux (3-8 deg).  :func:`region_components` turns a
region into the Gaussian flux concentrations (sunspots and plage) it holds
at a given time; :mod:`solar_euv.synthetic.field` puts them on an image.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from solar_euv.synthetic.inputs import smoothstep

__all__ = [
    "RSUN_CM",
    "MJD_2000",
    "RegionParams",
    "cycle_activity",
    "cycle_number",
    "polar_field_sign",
    "spoerer_latitude",
    "synodic_rotation_rate",
    "regions_emerging",
    "regions_near",
    "region_components",
]

RSUN_CM = 6.957e10
"""Solar radius in cm (IAU nominal), used to turn Mx into Gauss."""

MJD_2000 = 51544.0
"""MJD of 2000-01-01 00:00 UTC, the origin of the catalogue windows."""
_CHUNK_DAYS = 27.0           # region catalogue window
_MAX_AGE_DAYS = 240.0        # regions older than this are gone
_CYCLE24_START = 2008.9      # decimal year
_CYCLE_LENGTH = 11.0         # years


# ---------------------------------------------------------------------------
# Solar cycle
# ---------------------------------------------------------------------------
def _decimal_year(mjd):
    return 2000.0 + (np.asarray(mjd, dtype=float) - MJD_2000) / 365.25


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


def polar_field_sign(mjd):
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
    t0 = MJD_2000 + chunk * _CHUNK_DAYS
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
    first = int(np.floor((mjd - _MAX_AGE_DAYS - MJD_2000) / _CHUNK_DAYS))
    last = int(np.floor((mjd - MJD_2000) / _CHUNK_DAYS))
    out = []
    for chunk in range(first, last + 1):
        out.extend(r for r in regions_emerging(seed, chunk) if r.t_emerge <= mjd)
    return out


def region_components(region, mjd):
    """Gaussian flux concentrations of one region at ``mjd``.

    Returns a list of ``(lat, lon, sigma_rad, peak_gauss, kind)`` with kind
    ``"spot"`` or ``"plage"``; empty once the region has decayed.
    """
    age = mjd - region.t_emerge
    q = region.q
    tau_rise = 1.0 + 2.0 * q
    tau_spot = 4.0 + 20.0 * q
    tau_plage = 30.0 + 60.0 * q
    rise = smoothstep(age / tau_rise)
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

