"""Synthetic Sun: SDO-like level-1 HMI and AIA FITS files with a known ground truth.

The Sun is a deterministic function of ``(seed, time)``:
:mod:`solar_euv.sdo.synthetic_field` gives the radial magnetic field (active
regions from a seeded catalogue, network, polar fields, all rotating
differentially), :mod:`solar_euv.sdo.synthetic_corona` turns it into AIA
intensities per passband.  This module adds what an instrument does and
writes files that look like JSOC downloads, so that the real reading and
preparation code has to undo it:

HMI (``hmi.M_720s``)
    ``B_LOS = B_r * mu`` plus 10 G Gaussian noise, NaN off the disk, written
    upside down (``CROTA2`` ~ 180.08 deg) at 0.504"/px (4096 px) with the
    disk centre a few pixels off the array centre; RICE-compressed int32 in
    HDU 1 with ``BSCALE = 0.1`` (0.1 G steps), as JSOC.
AIA (``aia.lev1_euv_12s``, ``aia.lev1_uv_24s``)
    The model intensity (DN/s) times the instrument degradation of that date
    (aiapy's correction table shipped in ``solar_euv.data``, no network),
    times ``EXPTIME`` (1-2.9 s by passband), plus photon and read noise,
    rounded to integer DN (saturating at 16383); 0.6"/px (4096 px), a roll of
    up to 0.14 deg and the disk centre off the array centre, different for
    each of the four telescopes; RICE-compressed int16 in HDU 1.
Both
    The Sun-Earth distance of that date (``DSUN_OBS``, ``RSUN_OBS``) and the
    observer's heliographic latitude (``HGLT_OBS`` = B0).  Smaller sizes keep
    the field of view (plate scale times ``4096 / size``).  ``SYNTHETC = T``
    marks every file as synthetic.

Images are projected orthographically: a point at ``(x, y)`` solar radii
from the disk centre appears at ``(x, y) * RSUN_OBS`` arcsec, which is what
an affine resampling onto the common grid assumes.

The noise-free truth on the common grid is :meth:`SyntheticSun.truth` (AIA,
DN/s) and :meth:`SyntheticSun.magnetogram` (HMI, G); comparing a model or the
prepared files with it gives the "oracle" scores.
"""
import datetime as _dt
import importlib.resources
import os
import pathlib
import re
import shutil
import time as _time
from dataclasses import dataclass
from functools import lru_cache

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.time import Time
from scipy import ndimage

from solar_euv._version import __version__
from solar_euv.exceptions import SolarEUVError
from solar_euv.passbands import PASSBAND_NAMES, get_passband, parse_passbands
from solar_euv.scaling import disk_center_px, solar_radius_px
from solar_euv.sdo import synthetic_corona, synthetic_field

__all__ = [
    "MODEL_VERSION",
    "SAMPLE_SIZES",
    "HMI_NOISE_GAUSS",
    "CACHE_ENV",
    "DEFAULT_SAMPLE_SIZE",
    "Observer",
    "SyntheticSun",
    "observer",
    "parse_time_input",
    "parse_cadence",
    "sample_times",
    "spread_times",
    "default_sample_times",
    "hmi_filename",
    "aia_filename",
    "aia_degradation",
    "write_sample",
    "default_sample_dir",
]

MODEL_VERSION = 2
"""Version of the synthetic model, written to every file (``SYNVERS``).

It names the default sample's cache directory (``sample-v2``), so a sample
made with another version is never reused.  Version 2 (this one) orders the
predictable share of the passbands as on real AIA at training sizes (oracle
CC ~0.98 at 1700 down to ~0.87 at 171): coronal passbands from the total
field strength 21-42 Mm up, per-passband unpredictable modulation (4 % at
1700 up to 38 % at 94); see :mod:`solar_euv.sdo.synthetic_corona`.
"""

SAMPLE_SIZES = (64, 128, 256, 512, 1024, 2048, 4096)
"""Image sizes ``sample`` can write (4096 is the instruments' full size)."""

HMI_NOISE_GAUSS = 10.0
"""Standard deviation of the Gaussian noise added to HMI line-of-sight values (G)."""

CACHE_ENV = "SOLAR_EUV_CACHE"
"""Environment variable overriding the cache directory (default ``~/.cache/solar_euv``)."""

DEFAULT_SAMPLE_SIZE = 256
"""Image size of the embedded default sample."""

_FULL = 4096
_RSUN_REF_M = 696000000.0
_DSUN_REF_M = 149597870691.0
_HMI_PLATE = 0.504297           # arcsec / px at 4096
_HMI_CROTA = 180.082            # deg
_HMI_CRPIX = (2044.27, 2051.61)  # FITS pixel of the disk centre at 4096 (1-based)
_AIA_SATURATION = 16383
_AIA_READ_NOISE = 1.15          # DN

# telescope -> (plate scale "/px at 4096, CROTA2 deg, CRPIX1, CRPIX2 at 4096)
_AIA_TELESCOPES = {
    "AIA_1": (0.600109, -0.137, 2052.41, 2046.98),
    "AIA_2": (0.600698, -0.104, 2051.25, 2049.63),
    "AIA_3": (0.599489, 0.021, 2054.03, 2048.14),
    "AIA_4": (0.600758, -0.036, 2049.86, 2051.37),
}

# passband -> (telescope, EXPTIME s, T_OBS offset s, series, WAVE_STR, DN per photon)
# DN per photon is the DNPERPHT column of the shipped V8 response table.
_AIA_CHANNELS = {
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

_RESPONSE_TABLE = "aia_V8_20171210_050627_response_table.txt"
_MARKER = "COMPLETE"
_DEFAULT_DIRNAME = f"sample-v{MODEL_VERSION}"


# ---------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------
def parse_time_input(value, what="time"):
    """Turn a string, datetime or :class:`~astropy.time.Time` into a UTC ``Time``.

    Raises
    ------
    SolarEUVError
        If ``value`` is not a date or time that astropy understands.
    """
    if isinstance(value, Time):
        return value.utc
    try:
        return Time(value, scale="utc")
    except (ValueError, TypeError):
        message = (f"{what} {value!r} is not a date or time; use ISO 8601 such as "
                   "2011-01-01 or 2011-01-01T06:00")
        raise SolarEUVError(message) from None


def _utc_plus(t, seconds):
    """``t`` plus ``seconds`` on the UTC calendar (leap seconds not counted)."""
    mjd = t.utc.mjd
    day = np.floor(mjd)
    return Time(day, (mjd - day) + seconds / 86400.0, format="mjd", scale="utc")


_CADENCE_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600,
                  "d": 86400, "day": 86400}


def parse_cadence(text):
    """Cadence such as ``"6h"``, ``"30min"``, ``"720s"`` or ``"1d"`` in seconds (float)."""
    if isinstance(text, u.Quantity):
        seconds = text.to_value(u.s)
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
        unit = match.group(2).lower() if match else None
        if not match or unit not in _CADENCE_UNITS:
            message = (f"cadence {text!r} is not understood; use a number and a unit "
                       "such as 6h, 30min, 720s or 1d")
            raise SolarEUVError(message)
        seconds = float(match.group(1)) * _CADENCE_UNITS[unit]
    if seconds < 60:
        raise SolarEUVError(f"cadence {text!r} is shorter than a minute")
    return float(seconds)


def _end_time(value):
    """End of a range: a bare date (``2017-12-31``) means the end of that day."""
    t = parse_time_input(value, "end")
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        t = _utc_plus(t, 86400.0)
        return t, False
    return t, True


def sample_times(start, end, cadence="6h"):
    """Times from ``start`` to ``end`` every ``cadence`` (a bare end date is inclusive).

    Returns
    -------
    list of astropy.time.Time
    """
    t0 = parse_time_input(start, "start")
    t1, inclusive = _end_time(end)
    step = parse_cadence(cadence)
    span = (t1.utc.mjd - t0.utc.mjd) * 86400.0
    if span < 0 or (span == 0 and not inclusive):
        raise SolarEUVError(f"end {end} is before start {start}")
    count = int(np.floor(span / step + 1e-9)) + 1
    if not inclusive and (count - 1) * step >= span - 1e-6:
        count -= 1
    return [_utc_plus(t0, k * step) for k in range(max(count, 0))]


def spread_times(count, start="2011-01-01", end="2017-12-31", cadence="6h"):
    """``count`` times spread evenly over ``[start, end]`` on the cadence grid of ``start``."""
    if count < 1:
        raise SolarEUVError(f"count must be at least 1; received {count}")
    grid = sample_times(start, end, cadence)
    idx = np.unique(np.round(np.linspace(0, len(grid) - 1, count)).astype(int))
    if len(idx) < count:
        message = (f"count {count} is more than the {len(grid)} times between "
                   f"{start} and {end} at cadence {cadence}")
        raise SolarEUVError(message)
    return [grid[i] for i in idx]


def default_sample_times():
    """Times of the embedded default sample: 3 times 6 h apart every 26 days, 2011-2017.

    99 groups of 3 neighbouring 6-hourly times (297 time steps) cover the
    paper's training (2011-2016), validation (2017 Jan-Jun) and test
    (2017 Jul-Dec) periods; 26 days is not a multiple of the rotation period,
    so successive groups see different longitudes.
    """
    t0 = Time("2011-01-01T00:00:00", scale="utc")
    end = Time("2018-01-01T00:00:00", scale="utc")
    times = []
    day = 0
    while True:
        for k in range(3):
            t = _utc_plus(t0, (day + 0.25 * k) * 86400.0)
            if t >= end:
                return times
            times.append(t)
        day += 26


# ---------------------------------------------------------------------------
# Geometry and instrument
# ---------------------------------------------------------------------------
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
    rsun = float(np.degrees(np.arcsin(_RSUN_REF_M / dsun)) * 3600.0)
    return Observer(t, dsun, rsun, float(sun.B0(t).to_value(u.deg)))


@dataclass(frozen=True)
class _Pointing:
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
    return 0.5 + (crpix_full - 0.5) * size / _FULL


def _hmi_pointing(t, size):
    phase = 2.0 * np.pi * (t.mjd - 55197.0) / 365.25
    return _Pointing(
        plate=_HMI_PLATE * _FULL / size,
        crota2=_HMI_CROTA + 0.004 * np.sin(phase),
        crpix1=_scaled_crpix(_HMI_CRPIX[0] + 0.8 * np.sin(phase), size),
        crpix2=_scaled_crpix(_HMI_CRPIX[1] + 0.6 * np.cos(phase), size))


def _aia_pointing(telescope, t, size):
    plate, crota, cx, cy = _AIA_TELESCOPES[telescope]
    phase = 2.0 * np.pi * (t.mjd - 55197.0) / 365.25
    return _Pointing(
        plate=plate * _FULL / size,
        crota2=crota + 0.003 * np.sin(phase),
        crpix1=_scaled_crpix(cx + 1.1 * np.sin(phase + 0.7), size),
        crpix2=_scaled_crpix(cy + 0.9 * np.cos(phase + 0.3), size))


def _common_affine(size):
    r = solar_radius_px(size)
    c = disk_center_px(size)
    return np.array([[1.0 / r, 0.0, -c / r], [0.0, 1.0 / r, -c / r]])


@lru_cache(maxsize=1)
def _correction_table():
    from aiapy.calibrate.util import get_correction_table

    path = importlib.resources.files("solar_euv.data") / _RESPONSE_TABLE
    with importlib.resources.as_file(path) as p:
        return get_correction_table(str(p))


def aia_degradation(passband, time):
    """aiapy's degradation factor (<= ~1) of ``passband`` at ``time``, from the shipped table."""
    from aiapy.calibrate import degradation

    pb = get_passband(passband)
    t = parse_time_input(time)
    factor = degradation(pb.wavelength, t, correction_table=_correction_table())
    return float(np.ravel(u.Quantity(factor).to_value(u.dimensionless_unscaled))[0])


# ---------------------------------------------------------------------------
# File names and headers
# ---------------------------------------------------------------------------
def _hmi_t_rec(t):
    """HMI 720 s record time (TAI) nearest ``t``."""
    tai = t.tai
    seconds = (tai.mjd - 51544.0) * 86400.0
    rec = np.round(seconds / 720.0) * 720.0
    return Time(51544.0 + rec / 86400.0, format="mjd", scale="tai")


def _tai_string(t_tai, decimals=0):
    dt = t_tai.tai.to_datetime()
    frac = ""
    if decimals:
        frac = f"{dt.microsecond / 1e6:.{decimals}f}"[1:]
    return dt.strftime("%Y.%m.%d_%H:%M:%S") + frac + "_TAI"


def hmi_filename(t_rec):
    """JSOC export name of an HMI 720 s magnetogram.

    For example ``hmi.M_720s.20110101_000000_TAI.1.magnetogram.fits``.
    """
    stamp = t_rec.tai.to_datetime().strftime("%Y%m%d_%H%M%S")
    return f"hmi.M_720s.{stamp}_TAI.1.magnetogram.fits"


def aia_filename(passband, t_obs):
    """JSOC export name of an AIA level-1 image (time stamp: T_OBS to the second).

    For example ``aia.lev1_euv_12s.2011-01-01T000009Z.171.image_lev1.fits``;
    1600 and 1700 come from ``aia.lev1_uv_24s``.
    """
    name = get_passband(passband).name
    series = _AIA_CHANNELS[name][3]
    stamp = t_obs.utc.to_datetime().strftime("%Y-%m-%dT%H%M%S")
    return f"{series}.{stamp}Z.{name}.image_lev1.fits"


def _iso(t):
    return t.utc.isot


def _common_cards(obs, pointing, size, seed):
    r_sun_px = obs.rsun_arcsec / pointing.plate
    return [
        ("CTYPE1", "HPLN-TAN", "helioprojective longitude, gnomonic"),
        ("CUNIT1", "arcsec", ""),
        ("CRVAL1", 0.0, "[arcsec] disk centre"),
        ("CDELT1", round(pointing.plate, 8), "[arcsec/pixel] image scale"),
        ("CRPIX1", round(pointing.crpix1, 4), "[pixel] disk centre (1-based)"),
        ("CTYPE2", "HPLT-TAN", "helioprojective latitude, gnomonic"),
        ("CUNIT2", "arcsec", ""),
        ("CRVAL2", 0.0, "[arcsec] disk centre"),
        ("CDELT2", round(pointing.plate, 8), "[arcsec/pixel] image scale"),
        ("CRPIX2", round(pointing.crpix2, 4), "[pixel] disk centre (1-based)"),
        ("CROTA2", round(pointing.crota2, 6), "[deg] rotation of solar north from +y"),
        ("R_SUN", round(r_sun_px, 4), "[pixel] apparent solar radius in pixels"),
        ("RSUN_OBS", round(obs.rsun_arcsec, 6), "[arcsec] apparent solar radius"),
        ("RSUN_REF", _RSUN_REF_M, "[m] reference solar radius"),
        ("DSUN_OBS", round(obs.dsun_m, 1), "[m] distance from observer to Sun centre"),
        ("DSUN_REF", _DSUN_REF_M, "[m] 1 au"),
        ("HGLN_OBS", 0.0, "[deg] Stonyhurst longitude of the observer"),
        ("HGLT_OBS", round(obs.b0_deg, 6), "[deg] Stonyhurst latitude of the observer"),
        ("CRLT_OBS", round(obs.b0_deg, 6), "[deg] Carrington latitude of the observer"),
        ("QUALITY", 0, "level-1 quality word (0: good)"),
        ("LVL_NUM", 1.0, "data level (1: not registered)"),
        ("SYNTHETC", True, "synthetic Sun (solar_euv), not observed"),
        ("SYNSEED", int(seed), "seed of the synthetic Sun"),
        ("SYNVERS", MODEL_VERSION, "version of the synthetic model"),
        ("SYNSIZE", int(size), "image size; full size is 4096"),
    ]


def _header(cards, history):
    header = fits.Header()
    for key, value, comment in cards:
        header[key] = (value, comment)
    for line in history:
        header.add_history(line)
    return header


def _compressed(data, header):
    """RICE-compressed image HDU (as JSOC), tiles of up to 64 rows."""
    tile = (min(64, data.shape[0]), data.shape[1])
    return fits.CompImageHDU(data=data, header=header, compression_type="RICE_1",
                             tile_shape=tile)


def _write_atomic(path, hdu):
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp, overwrite=True,
                                                        output_verify="exception")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


# ---------------------------------------------------------------------------
# The synthetic Sun
# ---------------------------------------------------------------------------
def _unix_seconds(t):
    return int(round((t.utc.mjd - 40587.0) * 86400.0))


class SyntheticSun:
    """A synthetic Sun: magnetograms, AIA truth and instrument files for any time.

    Parameters
    ----------
    seed : int
        Seed of the active-region catalogue, the network and all noise.

    Examples
    --------
    >>> sun = SyntheticSun(seed=0)
    >>> blos = sun.magnetogram("2014-01-01", size=256)        # G, common grid
    >>> truth = sun.truth("2014-01-01", size=256)             # {passband: DN/s}
    >>> paths = sun.write_time_step("out", "2014-01-01", size=256)
    """

    def __init__(self, seed=0):
        self.seed = int(seed)

    def __repr__(self):
        return f"SyntheticSun(seed={self.seed})"

    # -- physics on the common grid ------------------------------------------
    def radial_field(self, time, size):
        """``(B_r, mu)`` on the common ``size x size`` grid (B_r in G, NaN off the disk)."""
        obs = observer(time)
        br, mu, _ = synthetic_field.radial_field(self.seed, obs.time.mjd, obs.b0_deg,
                                                 _common_affine(size), (size, size))
        return br, mu

    def magnetogram(self, time, size):
        """Noise-free line-of-sight field ``B_r * mu`` (G) on the common grid, NaN off the disk.

        Evaluated at ``time`` exactly; the HMI file written for a nominal time
        is observed at its 720 s record time ``T_REC`` (TAI grid, up to 6
        minutes away; 35 s earlier for whole UTC hours in 2014), so compare a
        file with ``magnetogram(map.reference_date, size)``.
        """
        br, mu = self.radial_field(time, size)
        return (br * mu).astype(np.float32)

    def _inputs(self, obs, size):
        br, mu, spot = synthetic_field.radial_field(
            self.seed, obs.time.mjd, obs.b0_deg, _common_affine(size), (size, size))
        return synthetic_corona.ModelInputs(br, mu, spot)

    def truth(self, time, size, passbands=PASSBAND_NAMES, unpredictable=False):
        """Noise-free AIA intensities (DN/s, degradation-corrected) on the common grid.

        Parameters
        ----------
        time : str, datetime or astropy.time.Time
        size : int
            Side of the common grid.
        passbands : iterable of str
        unpredictable : bool
            Include the component the magnetogram cannot predict
            (:func:`~solar_euv.sdo.synthetic_corona.unpredictable_factor`), as
            in the files; False gives what a perfect model could reach.

        Returns
        -------
        dict of str -> numpy.ndarray
            float32 ``(size, size)`` images, off-limb emission included.
        """
        names = parse_passbands(passbands)
        obs = observer(time)
        inp = self._inputs(obs, size)
        images = {p: synthetic_corona.forward_model(inp, p) for p in names}
        if unpredictable:
            factors = synthetic_corona.unpredictable_factor(
                (self.seed, _unix_seconds(obs.time), 7), size, names)
            images = {p: images[p] * factors[p] for p in names}
        return images

    # -- files ------------------------------------------------------------------
    def hmi_image(self, time, size):
        """The HMI file's data and header for nominal ``time`` (data as written, G)."""
        t = parse_time_input(time)
        t_rec = _hmi_t_rec(t)
        obs = observer(t_rec.utc)
        pointing = _hmi_pointing(obs.time, size)
        br, mu, _ = synthetic_field.radial_field(
            self.seed, obs.time.mjd, obs.b0_deg, pointing.pixel_to_disk(obs.rsun_arcsec),
            (size, size))
        rng = np.random.default_rng([self.seed, _unix_seconds(obs.time), 9])
        noise = rng.standard_normal((size, size)).astype(np.float32)
        blos = br * mu + np.float32(HMI_NOISE_GAUSS) * noise
        cards = [
            ("TELESCOP", "SDO/HMI", "Solar Dynamics Observatory / HMI"),
            ("INSTRUME", "HMI_FRONT2", "HMI front camera (line-of-sight observables)"),
            ("ORIGIN", "solar_euv synthetic Sun", "not SDO/JSOC-SDP: synthetic"),
            ("CONTENT", "MAGNETOGRAM", "line-of-sight magnetic field"),
            ("BUNIT", "Mx/cm^2", "line-of-sight flux density (G)"),
            ("WAVELNTH", 6173.0, "[angstrom] Fe I 6173"),
            ("WAVEUNIT", "angstrom", ""),
            ("T_REC", _tai_string(t_rec), "[TAI] record time"),
            ("T_OBS", _tai_string(t_rec, 2), "[TAI] mid-time of the average"),
            ("DATE-OBS", _iso(obs.time), "[UTC] observation time (= T_OBS)"),
            ("CADENCE", 720.0, "[s] averaging / record cadence"),
        ] + _common_cards(obs, pointing, size, self.seed)
        history = [f"solar_euv {__version__} synthetic HMI: B_r*mu + {HMI_NOISE_GAUSS:g} G "
                   "noise, rotated by CROTA2"]
        return blos, _header(cards, history)

    def aia_images(self, time, size, passbands=PASSBAND_NAMES):
        """Data (DN, int16) and header of each AIA file for nominal ``time``.

        Returns
        -------
        dict of str -> (numpy.ndarray, astropy.io.fits.Header)
        """
        names = parse_passbands(passbands)
        obs = observer(time)
        observed = self.truth(obs.time, size, names, unpredictable=True)
        c = disk_center_px(size)
        r = solar_radius_px(size)
        coords = {}
        out = {}
        for name in names:
            telescope, exptime, offset, _, wave_str, dn_per_photon = _AIA_CHANNELS[name]
            pointing = _aia_pointing(telescope, obs.time, size)
            if telescope not in coords:
                aff = pointing.pixel_to_disk(obs.rsun_arcsec)
                jj, ii = np.mgrid[0:size, 0:size].astype(np.float32)
                x = aff[0, 0] * ii + aff[0, 1] * jj + aff[0, 2]
                y = aff[1, 0] * ii + aff[1, 1] * jj + aff[1, 2]
                coords[telescope] = np.stack([c + y * r, c + x * r]).astype(np.float32)
                del jj, ii, x, y
            rate = ndimage.map_coordinates(observed[name], coords[telescope], order=1,
                                           mode="nearest")
            degradation = aia_degradation(name, obs.time)
            dn = rate * np.float32(degradation * exptime)
            rng = np.random.default_rng([self.seed, _unix_seconds(obs.time),
                                         int(name), 8])
            binning = (_FULL / size) ** 2
            sigma = np.sqrt((dn_per_photon * np.clip(dn, 0.0, None)
                             + _AIA_READ_NOISE ** 2) / binning)
            dn = dn + sigma * rng.standard_normal(dn.shape).astype(np.float32)
            data = np.clip(np.rint(dn), -10, _AIA_SATURATION).astype(np.int16)
            t_obs = obs.time + offset * u.s
            date_obs = t_obs - 0.5 * exptime * u.s
            pb = get_passband(name)
            cards = [
                ("TELESCOP", "SDO/AIA", "Solar Dynamics Observatory / AIA"),
                ("INSTRUME", telescope, "AIA telescope"),
                ("ORIGIN", "solar_euv synthetic Sun", "not SDO/JSOC-SDP: synthetic"),
                ("DATE-OBS", _iso(date_obs), "[UTC] start of the exposure"),
                ("T_OBS", _iso(t_obs), "[UTC] mid-exposure time"),
                ("EXPTIME", exptime, "[s] exposure duration"),
                ("IMG_TYPE", "LIGHT", "image type"),
                ("WAVELNTH", int(pb.wavelength.to_value(u.AA)), "[angstrom] wavelength"),
                ("WAVEUNIT", "angstrom", "wavelength unit"),
                ("WAVE_STR", wave_str, "wavelength and filter"),
                ("BUNIT", "DN", "data unit"),
                ("PIXLUNIT", "DN", "pixel unit"),
                ("SYNDEGR", round(degradation, 6), "degradation factor applied (aiapy V8)"),
            ] + _common_cards(obs, pointing, size, self.seed)
            history = [f"solar_euv {__version__} synthetic AIA {name}: DN/s * degradation "
                       "* EXPTIME + photon noise"]
            out[name] = (data, _header(cards, history))
        return out

    def write_time_step(self, out_dir, time, size, passbands=PASSBAND_NAMES, hmi=True):
        """Write the HMI magnetogram and the AIA images of one time into ``out_dir``.

        Files are written under a temporary name and renamed, so a file with the
        final name is always complete.  Returns the list of paths written.
        """
        out_dir = pathlib.Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        t = parse_time_input(time)
        if hmi:
            blos, header = self.hmi_image(t, size)
            raw = np.where(np.isfinite(blos), np.rint(blos * 10.0),
                           -2147483648).astype(np.int32)
            header["BLANK"] = (-2147483648, "undefined value (off the disk)")
            header["BSCALE"] = (0.1, "physical = 0.1 * stored")
            header["BZERO"] = (0.0, "")
            hdu = _compressed(raw, header)
            hdu.header["BSCALE"] = 0.1
            paths.append(_write_atomic(out_dir / hmi_filename(_hmi_t_rec(t)), hdu))
        for name, (data, header) in self.aia_images(t, size, passbands).items():
            hdu = _compressed(data, header)
            t_obs = Time(header["T_OBS"], scale="utc")
            paths.append(_write_atomic(out_dir / aia_filename(name, t_obs), hdu))
        return paths


def _check_size(size):
    if int(size) not in SAMPLE_SIZES:
        sizes = ", ".join(str(s) for s in SAMPLE_SIZES)
        raise SolarEUVError(f"size {size} is not supported; use one of {sizes}")
    return int(size)


def write_sample(out_dir, times, size=1024, passbands=PASSBAND_NAMES, seed=0,
                 progress=None):
    """Write HMI and AIA files for every time in ``times`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or os.PathLike
    times : iterable of time-like
    size : int
        One of :data:`SAMPLE_SIZES`.
    passbands : iterable of str
        AIA passbands (``"all"`` for the nine).
    seed : int
    progress : callable, optional
        Called as ``progress(index, time, paths)`` after each time step.

    Returns
    -------
    list of pathlib.Path
    """
    size = _check_size(size)
    names = parse_passbands(passbands)
    sun = SyntheticSun(seed)
    written = []
    for k, t in enumerate(times):
        paths = sun.write_time_step(out_dir, t, size, names)
        written.extend(paths)
        if progress is not None:
            progress(k, t, paths)
    return written


def default_sample_dir(cache_dir=None):
    """Directory of the embedded default sample, generated on first use.

    297 time steps (3 times 6 h apart every 26 days over 2011-2017, see
    :func:`default_sample_times`) of HMI + nine AIA files at 256 px, seed 0
    (2970 files, about 170 MB).  It is generated into ``<cache>/sample-v2/``
    (the number is :data:`MODEL_VERSION`) where ``<cache>`` is ``cache_dir``,
    else ``$SOLAR_EUV_CACHE``, else ``~/.cache/solar_euv``.  Generation takes
    about 100-150 s of CPU on one core and needs no network; it writes into a
    temporary sibling directory that is renamed when complete, with a marker
    file (``COMPLETE``) written last, so later calls return at once and an
    interrupted run is simply redone.

    Returns
    -------
    pathlib.Path
    """
    root = pathlib.Path(cache_dir or os.environ.get(CACHE_ENV)
                        or pathlib.Path.home() / ".cache" / "solar_euv").expanduser()
    target = root / _DEFAULT_DIRNAME
    if (target / _MARKER).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{_DEFAULT_DIRNAME}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        times = default_sample_times()
        start = _time.perf_counter()
        write_sample(tmp, times, size=DEFAULT_SAMPLE_SIZE, seed=0)
        elapsed = _time.perf_counter() - start
        (tmp / _MARKER).write_text(
            f"solar_euv synthetic sample v{MODEL_VERSION}: {len(times)} time steps, "
            f"{DEFAULT_SAMPLE_SIZE} px, seed 0, generated in {elapsed:.0f} s on "
            f"{_dt.date.today().isoformat()}\n")
        try:
            os.replace(tmp, target)
        except OSError:
            if (target / _MARKER).is_file():  # another process finished first
                return target
            stale = root / f".{_DEFAULT_DIRNAME}.stale-{os.getpid()}"
            os.replace(target, stale)         # an incomplete leftover: set it aside
            os.replace(tmp, target)
            shutil.rmtree(stale, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
