"""Where SDO is and how its instruments point, for the synthetic Sun.

The observer of a time (Sun-Earth distance, apparent radius, B0) comes from
sunpy's ephemeris; HMI and each of AIA's four telescopes have a plate scale,
a roll (``CROTA2``) and a disk centre slightly off the array centre that
drift over the year; :func:`aia_degradation` is the instrument degradation
of a passband at a time, from the correction table shipped with the package
(:func:`solar_euv.sdo.calibration.degradation_factor`, no network).
Images are projected orthographically: a point at ``(x, y)`` solar radii
from the disk centre appears at ``(x, y) * RSUN_OBS`` arcsec.
"""
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.time import Time

from solar_euv.scaling import disk_center_px, solar_radius_px
from solar_euv.sdo.calibration import table_degradation_factor
from solar_euv.sdo.times import parse_time_input

__all__ = ["FULL_SIZE", "RSUN_REF_M", "AIA_CHANNELS", "Observer", "Pointing", "observer",
           "hmi_pointing", "aia_pointing", "common_affine", "aia_degradation"]

FULL_SIZE = 4096
"""Side of the instruments' full images (px)."""

RSUN_REF_M = 696000000.0
"""Reference solar radius (m), as in SDO headers (``RSUN_REF``)."""

_HMI_PLATE = 0.504297           # arcsec / px at 4096
_HMI_CROTA = 180.082            # deg
_HMI_CRPIX = (2044.27, 2051.61)  # FITS pixel of the disk centre at 4096 (1-based)

# telescope -> (plate scale "/px at 4096, CROTA2 deg, CRPIX1, CRPIX2 at 4096)
_AIA_TELESCOPES = {
    "AIA_1": (0.600109, -0.137, 2052.41, 2046.98),
    "AIA_2": (0.600698, -0.104, 2051.25, 2049.63),
    "AIA_3": (0.599489, 0.021, 2054.03, 2048.14),
    "AIA_4": (0.600758, -0.036, 2049.86, 2051.37),
}

AIA_CHANNELS = {
    "94": ("AIA_4", 2.901, 2.12, "aia.lev1_euv_12s", "94_THIN", 1.97671),
    "131": ("AIA_1", 2.901, 9.62, "aia.lev1_euv_12s", "131_THIN", 1.47100),
    "171": ("AIA_3", 1.999, 9.35, "aia.lev1_euv_12s", "171_THIN", 1.12159),
    "193": ("AIA_2", 2.000, 4.84, "aia.lev1_euv_12s", "193_THIN", 0.95137),
    "211": ("AIA_2", 2.901, 0.63, "aia.lev1_euv_12s", "211_THIN", 0.87843),
    "304": ("AIA_4", 2.901, 7.13, "aia.lev1_euv_12s", "304_THIN", 0.61097),
    "335": ("AIA_1", 2.901, 2.63, "aia.lev1_euv_12s", "335_THIN", 0.57542),
    "1600": ("AIA_3", 2.901, 3.13, "aia.lev1_uv_24s", "1600", 0.11994),
    "1700": ("AIA_3", 1.000, 6.71, "aia.lev1_uv_24s", "1700", 0.11289),
}
"""Passband -> (telescope, EXPTIME s, T_OBS offset s, series, WAVE_STR, DN per photon).

DN per photon is the DNPERPHT column of the shipped V8 response table.
"""


@dataclass(frozen=True)
class Observer:
    """Where SDO is at one time.

    Attributes
    ----------
    time : astropy.time.Time
    dsun_m : float
        Distance to the Sun's centre (m).
    rsun_arcsec : float
        Apparent solar radius.
    b0_deg : float
        Heliographic latitude of the observer (HGLT_OBS).
    """

    time: Time
    dsun_m: float
    rsun_arcsec: float
    b0_deg: float


def observer(time):
    """The (Earth-centred, SDO-like) observer at ``time``, from sunpy's ephemeris."""
    from sunpy.coordinates import get_earth, sun

    t = parse_time_input(time)
    dsun = float(get_earth(t).radius.to_value(u.m))
    rsun = float(np.degrees(np.arcsin(RSUN_REF_M / dsun)) * 3600.0)
    return Observer(t, dsun, rsun, float(sun.B0(t).to_value(u.deg)))


@dataclass(frozen=True)
class Pointing:
    """Plate scale (arcsec/px at this size), roll (deg) and FITS disk centre of an image."""

    plate: float      # arcsec / px at this size
    crota2: float     # deg
    crpix1: float     # FITS, 1-based
    crpix2: float

    def pixel_to_disk(self, rsun_arcsec):
        """(2, 3) affine: 0-based (col, row, 1) -> disk (x, y) in solar radii."""
        c, s = np.cos(np.radians(self.crota2)), np.sin(np.radians(self.crota2))
        k = self.plate / rsun_arcsec
        # FITS: world = CDELT * PC @ (p - CRPIX), p = index + 1
        a = k * np.array([[c, -s], [s, c]])
        b = -a @ np.array([self.crpix1 - 1.0, self.crpix2 - 1.0])
        return np.column_stack([a, b])


def _scaled_crpix(crpix_full, size):
    return 0.5 + (crpix_full - 0.5) * size / FULL_SIZE


def hmi_pointing(t, size):
    """HMI's :class:`Pointing` at time ``t`` for ``size`` px images (yearly drift)."""
    phase = 2.0 * np.pi * (t.mjd - 55197.0) / 365.25
    return Pointing(
        plate=_HMI_PLATE * FULL_SIZE / size,
        crota2=_HMI_CROTA + 0.004 * np.sin(phase),
        crpix1=_scaled_crpix(_HMI_CRPIX[0] + 0.8 * np.sin(phase), size),
        crpix2=_scaled_crpix(_HMI_CRPIX[1] + 0.6 * np.cos(phase), size))


def aia_pointing(telescope, t, size):
    """The :class:`Pointing` of AIA telescope ``telescope`` (``"AIA_1"``...) at ``t``."""
    plate, crota, cx, cy = _AIA_TELESCOPES[telescope]
    phase = 2.0 * np.pi * (t.mjd - 55197.0) / 365.25
    return Pointing(
        plate=plate * FULL_SIZE / size,
        crota2=crota + 0.003 * np.sin(phase),
        crpix1=_scaled_crpix(cx + 1.1 * np.sin(phase + 0.7), size),
        crpix2=_scaled_crpix(cy + 0.9 * np.cos(phase + 0.3), size))


def common_affine(size):
    """(2, 3) affine of the common ``size`` grid: 0-based (col, row, 1) -> disk (x, y)."""
    r = solar_radius_px(size)
    c = disk_center_px(size)
    return np.array([[1.0 / r, 0.0, -c / r], [0.0, 1.0 / r, -c / r]])


def aia_degradation(passband, time):
    """The degradation factor (<= ~1) of ``passband`` at ``time``, from the shipped table.

    :func:`solar_euv.sdo.calibration.table_degradation_factor` of the shipped
    V8 table: past the table's date the factor is extrapolated as it is (the
    synthetic Sun's instrument is defined that way).
    """
    return table_degradation_factor(passband, parse_time_input(time))
