"""FITS headers for images on the common grid (generated or prepared maps).

The common grid (:mod:`solar_euv.scaling`) is ``N x N``, north up, the disk centre at the
array centre (FITS ``CRPIX = (N + 1) / 2``) and the solar radius at
``392 * N / 1024`` pixels, so the plate scale follows the apparent solar
radius of the observation time: ``CDELT = rsun_obs / R_px``.
"""
import astropy.units as u
from astropy.io import fits
from astropy.time import Time
from sunpy.coordinates import get_earth, sun

from solar_euv.scaling import solar_radius_px

__all__ = ["common_grid_header"]


def common_grid_header(size, time, *, instrument="AIA", passband=None, unit="DN/s",
                       extra=None):
    """A FITS header that sunpy reads as a map on the common grid.

    Parameters
    ----------
    size : int
        Grid side in pixels.
    time : str or astropy.time.Time
        Observation time (UTC); sets the observer (Earth) and the plate scale.
    instrument : {"AIA", "HMI"}
    passband : str, optional
        AIA passband name (``"171"``); required for AIA.
    unit : str
        ``BUNIT`` of the data.
    extra : dict, optional
        More cards (provenance), ``{key: value}`` or ``{key: (value, comment)}``.

    Returns
    -------
    astropy.io.fits.Header
    """
    t = Time(time, scale="utc")
    earth = get_earth(t)
    rsun_obs = sun.angular_radius(t).to_value(u.arcsec)
    cdelt = rsun_obs / solar_radius_px(size)
    h = fits.Header()
    h["DATE-OBS"] = t.isot
    h["T_OBS"] = t.isot + "Z"
    h["TELESCOP"] = "SDO/AIA" if instrument == "AIA" else "SDO/HMI"
    h["INSTRUME"] = "AIA_4" if instrument == "AIA" else "HMI_FRONT2"
    if instrument == "AIA":
        if passband is None:
            raise ValueError("an AIA header needs a passband")
        h["WAVELNTH"] = int(passband)
        h["WAVEUNIT"] = "angstrom"
    else:
        h["CONTENT"] = "MAGNETOGRAM"
    h["BUNIT"] = unit
    h["LVL_NUM"] = 1.5
    for axis, ctype in ((1, "HPLN-TAN"), (2, "HPLT-TAN")):
        h[f"CTYPE{axis}"] = ctype
        h[f"CUNIT{axis}"] = "arcsec"
        h[f"CRPIX{axis}"] = (size + 1) / 2.0
        h[f"CRVAL{axis}"] = 0.0
        h[f"CDELT{axis}"] = cdelt
    h["CROTA2"] = 0.0
    h["RSUN_OBS"] = rsun_obs
    h["R_SUN"] = (solar_radius_px(size), "solar radius in pixels of this grid")
    h["DSUN_OBS"] = earth.radius.to_value(u.m)
    h["HGLN_OBS"] = 0.0
    h["HGLT_OBS"] = earth.lat.to_value(u.deg)
    for key, value in (extra or {}).items():
        h[key] = value
    return h
