"""The synthetic Sun seen by SOHO/MDI and NSO/GONG: files in those instruments' formats.

The same Sun as :class:`~solar_euv.synthetic.sun.SyntheticSun` (same seed,
same field) is rendered into the header of a real file that sunpy ships as
test data (``sunpy.data.test``): ``mdi.fd_M_96m_lev182.20101015_191200_TAI.data.header``
(an ``mdi.fd_M_96m_lev182`` 96-minute magnetogram) and
``gong_magnetogram.header`` (a GONG network magnetogram), with the time,
pointing, size and Sun-Earth geometry replaced.  sunpy opens the files as an
``MDIMap`` and a ``GONGMagnetogramMap``.

What each instrument does to the field here (model choices, not
measurements; they make the instruments differ the way the literature says
they do, coarser and noisier than HMI, with another calibration):

* the HMI-equivalent line-of-sight field ``B_r * mu`` is divided by the
  instrument's factor of :data:`solar_euv.sdo.magnetograms.CROSS_CALIBRATION`
  (so that the published cross-calibration undoes it exactly);
* it is blurred with a Gaussian of FWHM :attr:`InstrumentModel.fwhm_arcsec`
  (MDI 4", GONG 5", against HMI's 1") and sampled on the instrument's pixels
  (MDI 1024 px of about 1.98", GONG 860 px of about 2.5" at full size);
* Gaussian noise of :attr:`InstrumentModel.noise_gauss` (in the
  instrument's own Gauss) is added; off-disk pixels are NaN.

The data are written uncompressed as float32 in the primary HDU, marked
``SYNTHETC = T``.
"""
import pathlib
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.time import Time
from scipy import ndimage

from solar_euv._version import __version__
from solar_euv.atomic import atomic_path
from solar_euv.exceptions import SolarEUVError
from solar_euv.sdo.magnetograms import CROSS_CALIBRATION
from solar_euv.sdo.times import parse_time_input
from solar_euv.synthetic import field
from solar_euv.synthetic.observer import observer
from solar_euv.synthetic.sun import SyntheticSun

__all__ = ["InstrumentModel", "INSTRUMENTS", "template_header", "render", "filename",
           "write_magnetogram"]


@dataclass(frozen=True)
class InstrumentModel:
    """How the synthetic Sun is observed by one instrument.

    Attributes
    ----------
    name : str
        ``"mdi"`` or ``"gong"``.
    template : str
        File name of the header in ``sunpy.data.test``.
    size : int
        Full image side in pixels.
    radius_px : float
        Solar radius in pixels at full size (sets the plate scale).
    fwhm_arcsec : float
        Resolution (FWHM of the Gaussian blur).
    noise_gauss : float
        Standard deviation of the noise, in the instrument's Gauss.
    """

    name: str
    template: str
    size: int
    radius_px: float
    fwhm_arcsec: float
    noise_gauss: float


INSTRUMENTS = {
    "mdi": InstrumentModel("mdi", "mdi.fd_M_96m_lev182.20101015_191200_TAI.data.header",
                           1024, 488.7, 4.0, 20.0),
    "gong": InstrumentModel("gong", "gong_magnetogram.header", 860, 385.2, 5.0, 10.0),
}
"""Instrument -> :class:`InstrumentModel` (MDI radius: the template's ``R_SUN``;
GONG: its ``FNDLMBMI``)."""

_GPS_MINUS_TAI = -19.0  # s: GPS time = TAI - 19 s


def _instrument(name):
    try:
        return INSTRUMENTS[str(name).lower()]
    except KeyError:
        raise SolarEUVError(f"unknown synthetic instrument {name!r}; choose "
                            + " or ".join(INSTRUMENTS)) from None


def template_header(name, template=None):
    """The header of the sunpy test file of instrument ``name`` (``template`` overrides it)."""
    from sunpy.data.test import get_test_filepath

    model = _instrument(name)
    header = fits.Header.fromtextfile(get_test_filepath(template or model.template))
    for key in ("XTENSION", "PCOUNT", "GCOUNT", "BSCALE", "BZERO", "BLANK", "CHECKSUM",
                "DATASUM", "EXTEND"):
        header.remove(key, ignore_missing=True, remove_all=True)
    return header


def _tai(t, decimals=3):
    text = t.tai.strftime("%Y.%m.%d_%H:%M:%S.%f")
    return text[:len(text) - 6 + decimals] + "_TAI"


def _geometry(header, model, obs, size):
    """Update the header's time and geometry keywords; returns the pixel->disk affine."""
    scale = size / model.size
    radius = model.radius_px * scale                      # px at this size
    plate = obs.rsun_arcsec / radius
    centre = (size + 1) / 2.0 + 0.37 * scale, (size + 1) / 2.0 - 0.52 * scale
    header["NAXIS1"], header["NAXIS2"] = size, size
    if model.name == "mdi":
        header["T_REC"] = _tai(obs.time)
        header["T_OBS"] = _tai(obs.time)
        header["DATE-OBS"] = obs.time.utc.isot
        for axis, c in ((1, centre[0]), (2, centre[1])):
            header[f"CDELT{axis}"] = plate
            header[f"CRPIX{axis}"] = c
        header["X0"], header["Y0"] = centre[0] - 1, centre[1] - 1
        header["CROTA2"] = 0.0
        header["RSUN_OBS"], header["R_SUN"] = obs.rsun_arcsec, radius
        header["DSUN_OBS"], header["CRLT_OBS"] = obs.dsun_m, obs.b0_deg
        header["QUALITY"] = 0
    else:
        gps = obs.time.tai + _GPS_MINUS_TAI * u.s
        header["DATE-OBS"] = gps.strftime("%Y/%m/%d")
        header["TIME-OBS"] = gps.strftime("%H:%M:%S.%f")
        for axis, c in ((1, centre[0]), (2, centre[1])):
            header[f"CRPIX{axis}"] = c
            header[f"IMG_{'XY'[axis - 1]}0"] = c
        header["FNDLMBXC"], header["FNDLMBYC"] = centre
        header["FNDLMBMI"] = header["FNDLMBMA"] = radius
        semidiam = np.radians(obs.rsun_arcsec / 3600.0)
        header["SEMIDIAM"] = header["RADIUS"] = semidiam
        header["B0"] = obs.b0_deg
        header["DISTANCE"] = obs.dsun_m / 1.495978707e11
    k = plate / obs.rsun_arcsec                            # solar radii per pixel
    # 0-based (col, row, 1) -> disk (x, y) in solar radii, north up
    return np.array([[k, 0.0, -k * (centre[0] - 1.0)], [0.0, k, -k * (centre[1] - 1.0)]]), plate


def render(sun, instrument, time, size=None):
    """Data (the instrument's Gauss, NaN off the disk) and header of one magnetogram.

    Parameters
    ----------
    sun : SyntheticSun or int
        The synthetic Sun (or its seed).
    instrument : {"mdi", "gong"}
    time : time-like
    size : int, optional
        Image side (default: the instrument's full size); the field of view
        stays that of the full image.

    Returns
    -------
    numpy.ndarray, astropy.io.fits.Header
    """
    sun = sun if isinstance(sun, SyntheticSun) else SyntheticSun(int(sun))
    model = _instrument(instrument)
    size = int(size or model.size)
    obs = observer(parse_time_input(time))
    header = template_header(model.name)
    affine, plate = _geometry(header, model, obs, size)
    br, mu, _ = field.radial_field(sun.seed, obs.time.mjd, obs.b0_deg, affine, (size, size))
    blos = np.nan_to_num(br * mu).astype(np.float32)
    sigma = model.fwhm_arcsec / plate / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    blos = ndimage.gaussian_filter(blos, sigma) if sigma > 0.3 else blos
    factor = CROSS_CALIBRATION[model.name].factor
    rng = np.random.default_rng([sun.seed, int(round(obs.time.mjd * 1440)), 11,
                                 list(INSTRUMENTS).index(model.name)])
    data = blos / np.float32(factor) + np.float32(model.noise_gauss) \
        * rng.standard_normal((size, size)).astype(np.float32)
    data[~np.isfinite(br)] = np.nan
    header["BITPIX"] = -32
    header["SYNTHETC"] = (True, "synthetic Sun (solar_euv), not observed")
    header["SYNSEED"] = (sun.seed, "seed of the synthetic Sun")
    header["SYNFACT"] = (factor, "B_HMI / B_this used to render")
    header["SYNNOISE"] = (model.noise_gauss, "[G] noise added (this instrument's G)")
    header["SYNFWHM"] = (model.fwhm_arcsec, "[arcsec] resolution of the rendering")
    header.add_history(f"solar_euv {__version__} synthetic {model.name.upper()}: "
                       "B_r*mu / SYNFACT, blurred, + noise")
    return data.astype(np.float32), header


def filename(instrument, time):
    """File name: JSOC's for MDI, ``gong_magnetogram.<UTC>.fits`` for GONG."""
    t = Time(parse_time_input(time))
    if _instrument(instrument).name == "mdi":
        return f"mdi.fd_M_96m_lev182.{t.tai.strftime('%Y%m%d_%H%M%S')}_TAI.data.fits"
    return f"gong_magnetogram.{t.utc.strftime('%Y%m%dT%H%M%S')}Z.fits"


def write_magnetogram(out_dir, instrument, time, size=None, seed=0, *, template=None):
    """Write one synthetic MDI or GONG magnetogram into ``out_dir``; returns its path.

    ``template`` names another ``sunpy.data.test`` header (for example
    ``mdi.fd_Ic.20101015_230100_TAI.data.header`` or ``gong_halpha.header``)
    whose identity keywords replace the magnetogram's: a file of the wrong
    product, as users meet them.
    """
    data, header = render(SyntheticSun(seed), instrument, time, size)
    if template is not None:
        other = template_header(instrument, template)
        for key in ("CONTENT", "IMTYPE", "BUNIT", "WAVELNTH"):
            if key in other:
                header[key] = other[key]
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / filename(instrument, time)
    with atomic_path(path) as tmp:
        fits.PrimaryHDU(data, header).writeto(tmp, output_verify="silentfix")
    return path
