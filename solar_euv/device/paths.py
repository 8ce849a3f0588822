"""The table of faster TensorFlow paths per device kind, and the switches that choose a row.

:data:`FAST_PATHS` holds one :class:`FastPaths` per kind of
:data:`~solar_euv.device.kind.KINDS`; :func:`fast_paths` gives the row of the
detected kind, or :data:`NO_FAST_PATHS` with ``SOLAR_EUV_FAST_PATHS=0``
(read at each call).
"""
import contextlib
import dataclasses
import os
import warnings

from solar_euv.device.kind import KINDS, device_kind
from solar_euv.exceptions import SolarEUVWarning

__all__ = ["FastPaths", "FAST_PATHS", "NO_FAST_PATHS", "MEASURED_KIND", "fast_paths",
           "fast_paths_enabled", "using_fast_paths", "fast_path_variant"]

#: The kind the thresholds were measured on (README "Speed").
MEASURED_KIND = "cpu-avx512-bf16"


@dataclasses.dataclass(frozen=True)
class FastPaths:
    """Which faster TensorFlow paths the layers take, and up to which sizes.

    A threshold of 0 turns its path off.

    Attributes
    ----------
    fused_adam : bool
        :class:`~solar_euv.models.fused_adam.FusedAdam` updates with one
        ``ResourceApplyAdam`` kernel per variable.
    fused_batch_norm : bool
        :class:`~solar_euv.models.fused_batch_normalization.FusedBatchNormalization`
        trains with ``FusedBatchNormV3``.
    convt_max_pixels : int
        :class:`~solar_euv.models.matmul_conv2d_transpose.MatmulConv2DTranspose`
        computes inputs of at most this many pixels (``height * width``) as a
        matrix product ...
    convt_max_output_channels : int
        ... and, at any size, layers with at most this many filters.
    kernel_first : bool
        Matrix products of a transposed convolution whose kernel outweighs
        its pixels are taken kernel first (``W @ x.T``).
    conv_max_filters : int
        :class:`~solar_euv.models.matmul_conv2d.MatmulConv2D`: stride-1
        convolutions with at most this many filters are a matrix product.
    conv_max_input_channels : int
        :class:`~solar_euv.models.matmul_conv2d.MatmulConv2D`: kernel-4,
        stride-2 convolutions with at most this many input channels take
        their input gradient from a matrix product.
    """

    fused_adam: bool = False
    fused_batch_norm: bool = False
    convt_max_pixels: int = 0
    convt_max_output_channels: int = 0
    kernel_first: bool = False
    conv_max_filters: int = 0
    conv_max_input_channels: int = 0


#: Every path off: Keras's own code everywhere.
NO_FAST_PATHS = FastPaths()

_MEASURED = FastPaths(fused_adam=True, fused_batch_norm=True, convt_max_pixels=64,
                      convt_max_output_channels=1, kernel_first=True, conv_max_filters=4,
                      conv_max_input_channels=4)

#: The fast paths of each device kind.
FAST_PATHS = {
    # Measured (benchmarks/layer_speed.py and whole steps, README "Speed"):
    # AMD EPYC with AVX-512 and AVX512_BF16, float32 and bfloat16.
    "cpu-avx512-bf16": _MEASURED,
    # float32 runs the same oneDNN avx512_core kernels as on the measured
    # kind (bfloat16 aside, which `--precision auto` does not pick here).
    "cpu-avx512": _MEASURED,
    # Measured only on the AVX-512 machine with oneDNN limited to AVX2
    # (ONEDNN_MAX_CPU_ISA=AVX2), an approximation of an AVX2 CPU (README
    # "Speed"): the matrix-product paths stay (1.0-14x per layer there), the
    # fused BatchNorm goes (oneDNN's AVX2 kernel: 0.75-1.57x per layer, below 1
    # from 128x128x256 down, benchmarks/results/layer_speed_cpu-avx2.json; even
    # over a whole step).  The real AVX2 CPU (Zen 3) found this
    # project 0.74x the authors' loop at 512 px with every path on, which
    # the approximation does not reproduce: confirm on a real AVX2 machine.
    "cpu-avx2": dataclasses.replace(_MEASURED, fused_batch_norm=False),
    # Never measured.  The fused Adam and BatchNorm kernels are the ones
    # tf.keras 2 used by default on GPUs (cuDNN); the matrix-product paths
    # replaced slow oneDNN CPU kernels and may lose to cuDNN: off until
    # benchmarks/gpu_check.sh has measured them.
    "gpu": FastPaths(fused_adam=True, fused_batch_norm=True),
    # Never measured (older x86, ARM): only the fused Adam update (one
    # kernel instead of about ten element-wise passes).
    "cpu-other": FastPaths(fused_adam=True),
}


def fast_paths_enabled(environ=None):
    """False when ``SOLAR_EUV_FAST_PATHS`` turns every fast path off.

    Parameters
    ----------
    environ : mapping, optional
        Where ``SOLAR_EUV_FAST_PATHS`` is read (default ``os.environ``).

    Returns
    -------
    bool
    """
    environ = os.environ if environ is None else environ
    value = environ.get("SOLAR_EUV_FAST_PATHS", "").strip().lower()
    if value in ("", "1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    warnings.warn(f"SOLAR_EUV_FAST_PATHS={value!r} is neither 0 (off) nor 1 (on); "
                  "the fast paths stay on", SolarEUVWarning, stacklevel=3)
    return True


def fast_paths(environ=None):
    """The fast paths of this device kind (:data:`NO_FAST_PATHS` when switched off).

    Parameters
    ----------
    environ : mapping, optional
        Where the switch and the device kind are read (default
        ``os.environ``).

    Returns
    -------
    FastPaths
        Inside :func:`using_fast_paths` (and ``environ`` not given), the
        paths it set.

    Examples
    --------
    >>> fast_paths({"SOLAR_EUV_FAST_PATHS": "0"}) == NO_FAST_PATHS
    True
    >>> fast_paths({"SOLAR_EUV_DEVICE_KIND": "gpu"}).convt_max_pixels
    0
    """
    if _forced and environ is None:
        return _forced[-1]
    environ = os.environ if environ is None else environ
    if not fast_paths_enabled(environ):
        return NO_FAST_PATHS
    return FAST_PATHS[device_kind(environ)]


_forced = []


@contextlib.contextmanager
def using_fast_paths(paths):
    """Within the block, :func:`fast_paths` returns ``paths`` (this process, any kind).

    Parameters
    ----------
    paths : FastPaths
        What the layers traced inside the block take.
    """
    if not isinstance(paths, FastPaths):
        raise TypeError(f"expected a FastPaths, received {type(paths).__name__}")
    _forced.append(paths)
    try:
        yield
    finally:
        _forced.pop()


def fast_path_variant(name, environ=None):
    """A named set of fast paths, for benchmarks that compare them side by side.

    Parameters
    ----------
    name : str
        ``"table"`` (this device kind's row of :data:`FAST_PATHS`), ``"off"``
        (:data:`NO_FAST_PATHS`), a kind of :data:`KINDS` (its row), or
        ``"no-<field>"`` (this kind's row with one :class:`FastPaths` field
        off, e.g. ``"no-fused_batch_norm"``).
    environ : mapping, optional
        Where the device kind is read, for ``"table"`` and ``"no-<field>"``
        (default ``os.environ``).

    Returns
    -------
    FastPaths

    Examples
    --------
    >>> fast_path_variant("no-kernel_first", {"SOLAR_EUV_DEVICE_KIND": "cpu-avx512"}).kernel_first
    False
    """
    environ = os.environ if environ is None else environ
    if name == "table":
        return FAST_PATHS[device_kind(environ)]
    if name == "off":
        return NO_FAST_PATHS
    if name in FAST_PATHS:
        return FAST_PATHS[name]
    fields = [f.name for f in dataclasses.fields(FastPaths)]
    if name.startswith("no-") and name[3:] in fields:
        field = name[3:]
        off = False if isinstance(getattr(NO_FAST_PATHS, field), bool) else 0
        return dataclasses.replace(FAST_PATHS[device_kind(environ)], **{field: off})
    raise ValueError(f"unknown fast-path variant {name!r}: use table, off, a device kind "
                     f"({', '.join(KINDS)}) or no-<field> with a field of "
                     + ", ".join(fields))


