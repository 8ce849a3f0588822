"""Physical units <-> network units, and the common grid's solar-disk mask.

Conventions (DESIGN.md):

* Common grid: ``N x N`` pixels, north up, the disk centre at the array
  centre, solar radius ``R = 392 * N / 1024`` pixels.  Pixel centres sit at
  integer 0-based indices, so the disk centre is at ``((N - 1) / 2,
  (N - 1) / 2)`` (FITS ``CRPIX = (N + 1) / 2``).
* AIA: ``log2(clip(x + 1, 1, 2**aia_log_max))`` mapped ``0..aia_log_max`` to
  ``-1..1`` (the paper uses 14).  Inverse: ``2 ** ((y + 1) / 2 * 14) - 1``.
* HMI: clip to ``+-hmi_limit`` Gauss (3000), linearly to ``-1..1``.
* Off-disk pixels beyond ``mask_radius`` (0.99) of R are set, when masking is
  on, to -1 in the AIA images (0 DN/s) and to ``hmi_off_disk`` (0: no field)
  in the magnetogram.  The authors' TF2 notebook set the magnetogram to -1
  there too, the value of a saturated negative field: half of a 128 px
  image then reads as -1000 G, and a U-Net learns the disk's weak fields
  several times more slowly (validation CC of 171 A on the synthetic sample
  after 600 steps: 0.47 with -1, 0.76 with 0; ``python -m benchmarks learn``).
  Models saved before this field existed keep -1 (:meth:`Scaling.from_dict`).

Everything here is numpy and works on arrays of any leading shape; the last
two axes (or the axes given by the caller) are the image.
"""
from dataclasses import asdict, dataclass

import numpy as np

__all__ = [
    "Scaling",
    "solar_radius_px",
    "disk_center_px",
    "disk_mask",
    "DEFAULT_SCALING",
]

RADIUS_AT_1024 = 392.0


def solar_radius_px(size):
    """Solar radius in pixels on the common ``size x size`` grid."""
    return RADIUS_AT_1024 * float(size) / 1024.0


def disk_center_px(size):
    """0-based pixel coordinate of the disk centre on the common grid."""
    return (float(size) - 1.0) / 2.0


def disk_mask(size, fraction=1.0):
    """Boolean ``(size, size)`` array, True within ``fraction * R`` of the centre."""
    c = disk_center_px(size)
    yy, xx = np.mgrid[0:size, 0:size]
    r2 = (yy - c) ** 2 + (xx - c) ** 2
    return r2 <= (fraction * solar_radius_px(size)) ** 2


@dataclass(frozen=True)
class Scaling:
    """Limits of the physical <-> network mapping, recorded with every run.

    Parameters
    ----------
    hmi_limit : float
        Magnetogram clip level in Gauss; ``+-hmi_limit`` maps to ``+-1``.
    aia_log_max : float
        log2 of the brightest AIA value kept (DN/s + 1); maps to ``+1``.
    mask_off_disk : bool
        Set pixels outside ``mask_radius * R`` to -1 in network units.
    mask_radius : float
        Fraction of the solar radius kept by the mask.
    hmi_off_disk : float
        Network value of the magnetogram's off-disk pixels when masking (0:
        no field; -1 as the authors' TF2 notebook).
    """

    hmi_limit: float = 3000.0
    aia_log_max: float = 14.0
    mask_off_disk: bool = True
    mask_radius: float = 0.99
    hmi_off_disk: float = 0.0

    #: Values of fields added later, for dictionaries written before them.
    LEGACY = {"hmi_off_disk": -1.0}

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        """A Scaling from :meth:`to_dict`'s output (missing later fields: their old values)."""
        values = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for key, old in cls.LEGACY.items():
            values.setdefault(key, old)
        return cls(**values)

    # -- HMI -------------------------------------------------------------
    def hmi_to_network(self, gauss):
        """Magnetogram in Gauss -> network units in [-1, 1] (NaN -> 0)."""
        g = np.nan_to_num(np.asarray(gauss, dtype=np.float32), nan=0.0)
        return np.clip(g / self.hmi_limit, -1.0, 1.0).astype(np.float32)

    def hmi_from_network(self, y):
        return (np.asarray(y, dtype=np.float32) * self.hmi_limit).astype(np.float32)

    # -- AIA -------------------------------------------------------------
    def aia_to_network(self, dn_per_s):
        """AIA intensity in DN/s -> network units in [-1, 1] (NaN -> -1)."""
        x = np.nan_to_num(np.asarray(dn_per_s, dtype=np.float64), nan=0.0)
        v = np.log2(np.clip(x + 1.0, 1.0, 2.0 ** self.aia_log_max))
        return (v / self.aia_log_max * 2.0 - 1.0).astype(np.float32)

    def aia_from_network(self, y):
        """Network units -> DN/s (the inverse of :meth:`aia_to_network`)."""
        v = (np.asarray(y, dtype=np.float64) + 1.0) / 2.0 * self.aia_log_max
        return (2.0 ** v - 1.0).astype(np.float32)

    def apply_mask(self, y, value=-1.0):
        """Set off-disk pixels of network-unit images ``(..., N, N[, C])`` to ``value``.

        ``value`` is -1 for AIA images; :meth:`hmi_network_input` passes
        ``hmi_off_disk`` for magnetograms.
        """
        y = np.array(y, dtype=np.float32, copy=True)
        if not self.mask_off_disk:
            return y
        channels_last = y.ndim >= 3 and y.shape[-3] == y.shape[-2]
        size = y.shape[-2] if channels_last else y.shape[-1]
        mask = disk_mask(size, self.mask_radius)
        if channels_last:
            y[..., ~mask, :] = value
        else:
            y[..., ~mask] = value
        return y

    def hmi_network_input(self, gauss):
        """Magnetograms in Gauss ``(..., N, N)`` -> masked network input (same shape)."""
        return self.apply_mask(self.hmi_to_network(gauss), value=self.hmi_off_disk)


DEFAULT_SCALING = Scaling()
