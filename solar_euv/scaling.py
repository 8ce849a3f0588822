"""Physical units <-> network units, and the common grid's solar-disk mask.

Conventions (the design page of the docs, docs/design.rst):

* Common grid: ``N x N`` pixels, north up, the disk centre at the array
  centre, solar radius ``R = 392 * N / 1024`` pixels.  Pixel centres sit at
  integer 0-based indices, so the disk centre is at ``((N - 1) / 2,
  (N - 1) / 2)`` (FITS ``CRPIX = (N + 1) / 2``).
* AIA: ``log2(clip(x + 1, 1, 2**aia_log_max))`` mapped ``0..aia_log_max`` to
  ``-1..1`` (the paper uses 14).  Inverse: ``2 ** ((y + 1) / 2 * 14) - 1``.
* HMI: clip to ``+-hmi_limit`` Gauss (3000), linearly to ``-1..1``; or,
  with ``hmi_asinh = s > 0`` Gauss, ``asinh(B / s) / asinh(hmi_limit / s)``
  (clipped to ``-1..1``): linear below ``s``, logarithmic above, so that a
  1 kG spot is not twenty times a 50 G network element.  With the linear
  scaling, a U-Net trained on 1600 A or 304 A (whose brightness saturates
  with ``|B|``) extrapolates the steep weak-field slope into the few
  strong-field pixels and paints them 5-10x too bright, which dominates the
  paper's linear-intensity CC; ``asinh`` removes that (docs: learning).
* Off-disk pixels beyond ``mask_radius`` of R (0.99, the authors' TF2
  notebook; training's quick preset uses 1.0, the disk the paper's metrics
  score) are set, when masking is
  on, to -1 in the AIA images (0 DN/s) and to ``hmi_off_disk`` (0: no field)
  in the magnetogram.  The authors' TF2 notebook set the magnetogram to -1
  there too, the value of a saturated negative field: half of a 128 px
  image then reads as -1000 G, and a U-Net learns the disk's weak fields
  several times more slowly (validation CC of 171 A on the synthetic sample
  after 600 steps: 0.47 with -1, 0.76 with 0; ``python -m benchmarks learn``).
  Models saved before this field existed keep -1 (:meth:`Scaling.from_dict`).

The conversions are written once and computed by numpy (the default) or, with
``xp=tf``, by TensorFlow: the input pipeline (:mod:`solar_euv.dataset.pipeline`)
and the exported SavedModel (:mod:`solar_euv.export`) call the same methods as
prediction.  This module imports only numpy (TensorFlow is whatever the caller
passes), so the TensorFlow-free ``sdo`` readers can use its grid helpers.  The
methods work on arrays of any leading shape; the last two axes (or the last
three, channels-last) are the image.
"""
import math
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
    hmi_asinh : float
        Softening field in Gauss of the arcsinh magnetogram scaling
        ``asinh(B / hmi_asinh) / asinh(hmi_limit / hmi_asinh)``; 0: linear
        ``B / hmi_limit`` (the paper).
    """

    hmi_limit: float = 3000.0
    aia_log_max: float = 14.0
    mask_off_disk: bool = True
    mask_radius: float = 0.99
    hmi_off_disk: float = 0.0
    hmi_asinh: float = 0.0

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
    def hmi_to_network(self, gauss, xp=np):
        """Magnetogram in Gauss -> network units in [-1, 1] (NaN -> 0).

        Parameters
        ----------
        gauss : array_like or tf.Tensor
        xp : module
            ``numpy`` (default) or ``tensorflow``: the array library to
            compute with (the same formula either way).
        """
        ops = _ops(xp)
        g = ops.float32(gauss)
        g = ops.where(ops.isnan(g), 0.0, g)
        if self.hmi_asinh > 0:
            s = float(self.hmi_asinh)
            v = ops.asinh(g / s) / math.asinh(self.hmi_limit / s)
        else:
            v = g / self.hmi_limit
        return ops.float32(ops.clip(v, -1.0, 1.0))

    def hmi_from_network(self, y, xp=np):
        """Network units -> Gauss (the inverse of :meth:`hmi_to_network` within the clip)."""
        ops = _ops(xp)
        y = ops.float32(y)
        if self.hmi_asinh > 0:
            s = float(self.hmi_asinh)
            return ops.float32(ops.sinh(y * math.asinh(self.hmi_limit / s)) * s)
        return ops.float32(y * self.hmi_limit)

    # -- AIA -------------------------------------------------------------
    def aia_to_network(self, dn_per_s, xp=np):
        """AIA intensity in DN/s -> network units in [-1, 1] (NaN -> -1).

        numpy computes the logarithm in float64, TensorFlow in float32
        (they agree to float32 rounding).
        """
        ops = _ops(xp)
        x = ops.wide(dn_per_s)
        x = ops.where(ops.isnan(x), 0.0, x)
        v = ops.log2(ops.clip(x + 1.0, 1.0, 2.0 ** self.aia_log_max))
        return ops.float32(v / self.aia_log_max * 2.0 - 1.0)

    def aia_from_network(self, y, xp=np):
        """Network units -> DN/s (the inverse of :meth:`aia_to_network`)."""
        ops = _ops(xp)
        v = (ops.wide(y) + 1.0) / 2.0 * self.aia_log_max
        return ops.float32(2.0 ** v - 1.0)

    def apply_mask(self, y, value=-1.0, xp=np):
        """Set off-disk pixels of network-unit images ``(..., N, N[, C])`` to ``value``.

        ``value`` is -1 for AIA images; :meth:`hmi_network_input` passes
        ``hmi_off_disk`` for magnetograms (and the physical outputs of
        generation use 0 DN/s).  Images whose last three axes are ``(N, N,
        C)`` are taken as channels-last.  numpy returns a new array.
        """
        ops = _ops(xp)
        if not self.mask_off_disk:
            return ops.float32(y, copy=True)
        y = ops.float32(y)
        shape = tuple(y.shape)
        channels_last = len(shape) >= 3 and shape[-3] == shape[-2]
        inside = disk_mask(int(shape[-2] if channels_last else shape[-1]), self.mask_radius)
        return ops.where(inside[:, :, None] if channels_last else inside, y,
                         ops.float32(value))

    def hmi_network_input(self, gauss, xp=np):
        """Magnetograms in Gauss ``(..., N, N[, 1])`` -> masked network input (same shape)."""
        return self.apply_mask(self.hmi_to_network(gauss, xp), value=self.hmi_off_disk,
                               xp=xp)


class _NumpyOps:
    """The array operations of the scaling formulas, in numpy."""

    @staticmethod
    def float32(x, copy=False):
        return np.array(x, dtype=np.float32, copy=True) if copy else \
            np.asarray(x, dtype=np.float32)

    @staticmethod
    def wide(x):
        return np.asarray(x, dtype=np.float64)

    where = staticmethod(np.where)
    isnan = staticmethod(np.isnan)
    clip = staticmethod(np.clip)
    log2 = staticmethod(np.log2)
    asinh = staticmethod(np.arcsinh)
    sinh = staticmethod(np.sinh)


class _TensorFlowOps:
    """The same operations in TensorFlow, float32 throughout (the caller passes the module)."""

    def __init__(self, tf):
        self.tf = tf

    def float32(self, x, copy=False):
        return self.tf.cast(x, self.tf.float32)

    wide = float32

    def where(self, condition, x, y):
        return self.tf.where(condition, x, y)

    def isnan(self, x):
        return self.tf.math.is_nan(x)

    def clip(self, x, low, high):
        return self.tf.clip_by_value(x, low, high)

    def log2(self, x):
        return self.tf.math.log(x) / math.log(2.0)

    def asinh(self, x):
        return self.tf.math.asinh(x)

    def sinh(self, x):
        return self.tf.math.sinh(x)


_NUMPY_OPS = _NumpyOps()


def _ops(xp):
    """The operations for ``xp`` (the numpy or the tensorflow module)."""
    if xp is np:
        return _NUMPY_OPS
    if getattr(xp, "__name__", None) == "tensorflow":
        return _TensorFlowOps(xp)
    raise TypeError(f"xp must be numpy or tensorflow; received {xp!r}")


DEFAULT_SCALING = Scaling()
