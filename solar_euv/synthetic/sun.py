"""The synthetic Sun: SDO-like level-1 HMI and AIA images with a known ground truth.

The Sun is a deterministic function of ``(seed, time)``:
:mod:`solar_euv.synthetic.field` gives the radial magnetic field (active
regions from a seeded catalogue, network, polar fields, all rotating
differentially), :mod:`solar_euv.synthetic.corona` turns it into AIA
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
    (:func:`~solar_euv.synthetic.observer.aia_degradation`: aiapy's
    correction table shipped in ``solar_euv.data``, no network),
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
import pathlib

import astropy.units as u
import numpy as np
from astropy.time import Time
from scipy import ndimage

from solar_euv._version import __version__
from solar_euv.passbands import PASSBAND_NAMES, get_passband, parse_passbands
from solar_euv.scaling import disk_center_px, solar_radius_px
from solar_euv.sdo.times import parse_time_input
from solar_euv.synthetic import corona, field
from solar_euv.synthetic.files import (aia_filename, common_cards, compressed_hdu,
                                       hmi_filename, hmi_t_rec, make_header, tai_string,
                                       write_atomic)
from solar_euv.synthetic.inputs import ModelInputs
from solar_euv.synthetic.observer import (AIA_CHANNELS, FULL_SIZE, aia_degradation,
                                          aia_pointing, common_affine, hmi_pointing, observer)
from solar_euv.synthetic.unpredictable import unpredictable_factor

__all__ = ["HMI_NOISE_GAUSS", "SyntheticSun"]

HMI_NOISE_GAUSS = 10.0
"""Standard deviation of the Gaussian noise added to HMI line-of-sight values (G)."""

_AIA_SATURATION = 16383
_AIA_READ_NOISE = 1.15          # DN


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
        br, mu, _ = field.radial_field(self.seed, obs.time.mjd, obs.b0_deg,
                                                 common_affine(size), (size, size))
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
        br, mu, spot = field.radial_field(
            self.seed, obs.time.mjd, obs.b0_deg, common_affine(size), (size, size))
        return ModelInputs(br, mu, spot)

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
            (:func:`~solar_euv.sdo.unpredictable_factor`), as
            in the files; False gives what a perfect model could reach.

        Returns
        -------
        dict of str -> numpy.ndarray
            float32 ``(size, size)`` images, off-limb emission included.
        """
        names = parse_passbands(passbands)
        obs = observer(time)
        inp = self._inputs(obs, size)
        images = {p: corona.forward_model(inp, p) for p in names}
        if unpredictable:
            factors = unpredictable_factor(
                (self.seed, _unix_seconds(obs.time), 7), size, names)
            images = {p: images[p] * factors[p] for p in names}
        return images

    # -- files ------------------------------------------------------------------
    def hmi_image(self, time, size):
        """The HMI file's data and header for nominal ``time`` (data as written, G)."""
        t = parse_time_input(time)
        t_rec = hmi_t_rec(t)
        obs = observer(t_rec.utc)
        pointing = hmi_pointing(obs.time, size)
        br, mu, _ = field.radial_field(
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
            ("T_REC", tai_string(t_rec), "[TAI] record time"),
            ("T_OBS", tai_string(t_rec, 2), "[TAI] mid-time of the average"),
            ("DATE-OBS", obs.time.utc.isot, "[UTC] observation time (= T_OBS)"),
            ("CADENCE", 720.0, "[s] averaging / record cadence"),
        ] + common_cards(obs, pointing, size, self.seed)
        history = [f"solar_euv {__version__} synthetic HMI: B_r*mu + {HMI_NOISE_GAUSS:g} G "
                   "noise, rotated by CROTA2"]
        return blos, make_header(cards, history)

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
            telescope, exptime, offset, _, wave_str, dn_per_photon = AIA_CHANNELS[name]
            pointing = aia_pointing(telescope, obs.time, size)
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
            binning = (FULL_SIZE / size) ** 2
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
                ("DATE-OBS", date_obs.utc.isot, "[UTC] start of the exposure"),
                ("T_OBS", t_obs.utc.isot, "[UTC] mid-exposure time"),
                ("EXPTIME", exptime, "[s] exposure duration"),
                ("IMG_TYPE", "LIGHT", "image type"),
                ("WAVELNTH", int(pb.wavelength.to_value(u.AA)), "[angstrom] wavelength"),
                ("WAVEUNIT", "angstrom", "wavelength unit"),
                ("WAVE_STR", wave_str, "wavelength and filter"),
                ("BUNIT", "DN", "data unit"),
                ("PIXLUNIT", "DN", "pixel unit"),
                ("SYNDEGR", round(degradation, 6), "degradation factor applied (aiapy V8)"),
            ] + common_cards(obs, pointing, size, self.seed)
            history = [f"solar_euv {__version__} synthetic AIA {name}: DN/s * degradation "
                       "* EXPTIME + photon noise"]
            out[name] = (data, make_header(cards, history))
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
            hdu = compressed_hdu(raw, header)
            hdu.header["BSCALE"] = 0.1
            paths.append(write_atomic(out_dir / hmi_filename(hmi_t_rec(t)), hdu))
        for name, (data, header) in self.aia_images(t, size, passbands).items():
            hdu = compressed_hdu(data, header)
            t_obs = Time(header["T_OBS"], scale="utc")
            paths.append(write_atomic(out_dir / aia_filename(name, t_obs), hdu))
        return paths
