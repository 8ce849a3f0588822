"""What the forward models of the synthetic Sun read: the magnetogram on the common grid.

:class:`ModelInputs` holds the radial field, ``mu`` and the sunspot field
on the common grid (``N x N``, north up, radius ``392 N / 1024`` px, see
:mod:`solar_euv.scaling`) and derives, with caching, what
:mod:`solar_euv.synthetic.corona` needs: the field continued upward as a
potential field, ``|B|`` smoothed, coronal holes and limb profiles.
"""
import numpy as np
from scipy import fft as sfft
from scipy import ndimage

from solar_euv.scaling import disk_center_px, solar_radius_px

__all__ = ["ModelInputs", "smoothstep"]


def smoothstep(x):
    """Cubic step from 0 (``x <= 0``) to 1 (``x >= 1``)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


class ModelInputs:
    """The magnetogram and geometry on the common grid, with cached derived fields.

    Parameters
    ----------
    br : numpy.ndarray
        Radial field (G) on the common ``N x N`` grid, NaN off the disk.
    mu : numpy.ndarray
        Cosine of the heliocentric angle (0 off the disk).
    spot : numpy.ndarray
        Sunspot part of ``|B_r|`` (G).
    """

    def __init__(self, br, mu, spot):
        self.size = br.shape[0]
        self.on = np.isfinite(br)
        self.b = np.nan_to_num(br, nan=0.0).astype(np.float32)
        self.abs_b = np.abs(self.b)
        self.mu = mu.astype(np.float32)
        self.spot = spot.astype(np.float32)
        self.radius = solar_radius_px(self.size)
        c = disk_center_px(self.size)
        yy, xx = np.ogrid[0:self.size, 0:self.size]
        self.dx = ((xx - c) / self.radius).astype(np.float32)
        self.dy = ((yy - c) / self.radius).astype(np.float32)
        self.rho = np.sqrt(self.dx ** 2 + self.dy ** 2).astype(np.float32)
        ky = sfft.fftfreq(self.size)[:, None]
        kx = sfft.rfftfreq(self.size)[None, :]
        # |k| in radians per solar radius
        self.kmag = (2.0 * np.pi * np.sqrt(kx ** 2 + ky ** 2) * self.radius).astype(np.float32)
        self._cache = {}

    def _fft(self, name, field):
        if name not in self._cache:
            self._cache[name] = sfft.rfft2(field, workers=1)
        return self._cache[name]

    def _filtered(self, name, field, transfer):
        out = sfft.irfft2(self._fft(name, field) * transfer, s=field.shape, workers=1)
        return out.astype(np.float32)

    def field_at_height(self, h):
        """``|B|`` (G) of the potential field continued up to ``h`` solar radii.

        The field strength ``sqrt(B_x**2 + B_y**2 + B_z**2)`` of the potential
        field above the (locally flat) surface whose normal component is the
        radial field: in Fourier space ``B_z = B_r(k) exp(-|k| h)`` and
        ``(B_x, B_y) = -i (k_x, k_y) / |k| B_z``.  Unlike ``|B_z|`` it has no
        dark lanes over polarity inversion lines, where the field is
        horizontal.
        """
        key = ("h", h)
        if key not in self._cache:
            ky = sfft.fftfreq(self.size).astype(np.float32)[:, None]
            kx = sfft.rfftfreq(self.size).astype(np.float32)[None, :]
            kabs = np.sqrt(kx * kx + ky * ky)
            kabs[0, 0] = 1.0
            bz = self._fft("b", self.b) * np.exp(-self.kmag * np.float32(h))
            total = np.zeros((self.size, self.size), dtype=np.float32)
            for factor in (None, kx / kabs, ky / kabs):
                spec = bz if factor is None else -1j * factor * bz
                comp = sfft.irfft2(spec, s=(self.size, self.size), workers=1)
                total += (comp * comp).astype(np.float32)
            self._cache[key] = np.sqrt(total)
        return self._cache[key]

    def smooth_abs_b(self, sigma):
        """``|B|`` smoothed with a Gaussian of ``sigma`` solar radii."""
        key = ("sabs", sigma)
        if key not in self._cache:
            transfer = np.exp(-0.5 * (self.kmag * np.float32(sigma)) ** 2)
            self._cache[key] = self._filtered("absb", self.abs_b, transfer)
        return self._cache[key]

    def coronal_hole(self):
        """0..1: weak-field areas whose field, smoothed over 0.1 R, is unipolar."""
        if "ch" not in self._cache:
            transfer = np.exp(-0.5 * (self.kmag * np.float32(0.1)) ** 2)
            signed = np.abs(self._filtered("b", self.b, transfer))
            unsigned = self.smooth_abs_b(0.1)
            unipolar = signed / (unsigned + 1.0)
            weak = 1.0 - smoothstep((unsigned - 12.0) / 20.0)
            ch = smoothstep((unipolar - 0.5) / 0.25) * weak
            self._cache["ch"] = np.where(self.on, ch, 0.0).astype(np.float32)
        return self._cache["ch"]

    def limb_profile(self, image, radius=0.985, width_deg=2.0):
        """Brightness of ``image`` on the circle ``radius`` as a function of position angle.

        Returns a function of arrays ``(dx, dy)`` giving the profile value at
        each point's position angle (smoothed over ``width_deg``).
        """
        n_ang = 1440
        ang = np.arange(n_ang) * (2.0 * np.pi / n_ang)
        c = disk_center_px(self.size)
        rows = c + radius * self.radius * np.sin(ang)
        cols = c + radius * self.radius * np.cos(ang)
        prof = ndimage.map_coordinates(image, [rows, cols], order=1, mode="nearest")
        prof = ndimage.gaussian_filter1d(prof, width_deg / 360.0 * n_ang, mode="wrap")

        def at(dx, dy):
            a = np.mod(np.arctan2(dy, dx), 2.0 * np.pi) / (2.0 * np.pi) * n_ang
            return np.interp(a, np.arange(n_ang + 1), np.append(prof, prof[0]))

        return at

