"""The synthetic Sun's files: JSOC-style names, level-1 headers, RICE-compressed FITS.

File names follow JSOC's exports (:func:`hmi_filename`, :func:`aia_filename`);
headers carry the observer, the pointing and ``SYNTHETC = T`` with the seed,
:data:`MODEL_VERSION` and size; images are written RICE-compressed in HDU 1,
as JSOC does, under a temporary name that is renamed when complete.
"""
import pathlib

import numpy as np
from astropy.io import fits
from astropy.time import Time

from solar_euv.atomic import atomic_path
from solar_euv.passbands import get_passband
from solar_euv.synthetic.observer import AIA_CHANNELS, RSUN_REF_M

__all__ = [
    "MODEL_VERSION",
    "hmi_t_rec",
    "tai_string",
    "hmi_filename",
    "aia_filename",
    "common_cards",
    "make_header",
    "compressed_hdu",
    "write_atomic",
]

MODEL_VERSION = 2
"""Version of the synthetic model, written to every file (``SYNVERS``).

It names the default sample's cache directory (``sample-v2``), so a sample
made with another version is never reused.  Version 2 (this one) orders the
predictable share of the passbands as on real AIA at training sizes (oracle
CC ~0.98 at 1700 down to ~0.87 at 171): coronal passbands from the total
field strength 21-42 Mm up, per-passband unpredictable modulation (4 % at
1700 up to 38 % at 94); see :mod:`solar_euv.synthetic.corona`.
"""

_DSUN_REF_M = 149597870691.0


def hmi_t_rec(t):
    """HMI 720 s record time (TAI) nearest ``t``."""
    tai = t.tai
    seconds = (tai.mjd - 51544.0) * 86400.0
    rec = np.round(seconds / 720.0) * 720.0
    return Time(51544.0 + rec / 86400.0, format="mjd", scale="tai")


def tai_string(t_tai, decimals=0):
    """JSOC's TAI text of a time (``2011.01.01_00:00:34_TAI``), ``decimals`` of seconds."""
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
    series = AIA_CHANNELS[name][3]
    stamp = t_obs.utc.to_datetime().strftime("%Y-%m-%dT%H%M%S")
    return f"{series}.{stamp}Z.{name}.image_lev1.fits"


def common_cards(obs, pointing, size, seed):
    """Header cards ``(key, value, comment)`` shared by HMI and AIA files."""
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
        ("RSUN_REF", RSUN_REF_M, "[m] reference solar radius"),
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


def make_header(cards, history):
    """A FITS header from ``(key, value, comment)`` cards and HISTORY lines."""
    header = fits.Header()
    for key, value, comment in cards:
        header[key] = (value, comment)
    for line in history:
        header.add_history(line)
    return header


def compressed_hdu(data, header):
    """RICE-compressed image HDU (as JSOC), tiles of up to 64 rows."""
    tile = (min(64, data.shape[0]), data.shape[1])
    return fits.CompImageHDU(data=data, header=header, compression_type="RICE_1",
                             tile_shape=tile)


def write_atomic(path, hdu):
    """Write ``hdu`` as HDU 1 of ``path`` under a temporary name, then rename; returns ``path``."""
    path = pathlib.Path(path)
    with atomic_path(path) as tmp:
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp, overwrite=True,
                                                        output_verify="exception")
    return path
