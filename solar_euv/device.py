"""The kind of device this process computes on, what is fast there, and the precision that fits it.

The layers' faster TensorFlow paths (:class:`~solar_euv.models.fused_adam.FusedAdam`,
:class:`~solar_euv.models.fused_batch_normalization.FusedBatchNormalization`,
:class:`~solar_euv.models.matmul_conv2d_transpose.MatmulConv2DTranspose`,
:class:`~solar_euv.models.matmul_conv2d.MatmulConv2D`) compute exactly what
Keras's layers compute; whether one is *faster* depends on the device.  Each
is used only where :data:`FAST_PATHS` says so for the detected
:func:`device_kind`:

``"gpu"``
    TensorFlow sees a GPU.
``"cpu-avx512-bf16"``
    x86 CPU with AVX-512 (F, BW, VL, DQ) and native bfloat16 arithmetic
    (``avx512_bf16`` or ``amx_bf16`` in ``/proc/cpuinfo``).
``"cpu-avx512"``
    AVX-512 without native bfloat16.
``"cpu-avx2"``
    AVX2 and FMA, no AVX-512.
``"cpu-other"``
    Anything else (older x86, ARM, no ``/proc/cpuinfo``).

oneDNN, which runs TensorFlow's CPU convolutions and matrix products,
chooses its instruction set at run time; ``ONEDNN_MAX_CPU_ISA`` (or
``DNNL_MAX_CPU_ISA``) caps it, and so caps the detected kind
(``ONEDNN_MAX_CPU_ISA=AVX2`` on an AVX-512 machine gives ``"cpu-avx2"``).
``TF_ENABLE_ONEDNN_OPTS=0`` (TensorFlow's own Eigen kernels, which the pip
wheel builds without AVX2 or AVX-512 (its start-up message lists them among
the instructions it does not use), and bfloat16 emulated) caps it at
``"cpu-avx2"`` too: the thresholds were measured against oneDNN.

Environment variables read at each call (so a test or a benchmark can set
them in a running process; a layer reads them when its ``call`` is traced):

``SOLAR_EUV_FAST_PATHS=0`` (or ``off``, ``false``, ``no``)
    Every fast path off: the layers and the optimizer run Keras's own code.
``SOLAR_EUV_DEVICE_KIND=<kind>``
    Use the table row (and the precision choice) of this kind instead of
    the detected one.
"""
import contextlib
import dataclasses
import functools
import json
import os
import pathlib
import warnings

from solar_euv.exceptions import SolarEUVWarning

__all__ = ["KINDS", "FastPaths", "FAST_PATHS", "NO_FAST_PATHS", "MEASURED_KIND",
           "cpu_flags", "cpu_kind", "device_kind", "fast_paths", "fast_paths_enabled",
           "native_bfloat16", "gpu_compute_capability", "auto_precision",
           "resolve_precision", "PRECISIONS", "EMULATED_BFLOAT16_COST", "using_device_kind",
           "using_fast_paths", "fast_path_variant", "run_precision"]

#: Device kinds, fastest CPU first.
KINDS = ("gpu", "cpu-avx512-bf16", "cpu-avx512", "cpu-avx2", "cpu-other")
_CPU_LEVELS = ("cpu-other", "cpu-avx2", "cpu-avx512", "cpu-avx512-bf16")
#: The kind the thresholds were measured on (README "Speed").
MEASURED_KIND = "cpu-avx512-bf16"

#: Values of ``--precision``.
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
#: What emulated bfloat16 was measured to cost (issue 15, an AMD EPYC Zen 3
#: with AVX2 only, 2 cores, TF 2.21, Model B at 256 px).
EMULATED_BFLOAT16_COST = ("about 10x slower than float32 (Model B at 256 px: about 14 s "
                          "against 1.2 s per step on a 2-core AVX2 CPU)")


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
    # "Speed"): the matrix-product paths stay (1.1-14x per layer there), the
    # fused BatchNorm goes (oneDNN's AVX2 kernel: 0.65-1.37x per layer, even
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

_ONEDNN_CAPS = (  # (prefix of ONEDNN_MAX_CPU_ISA, highest kind it allows), first match wins
    ("AVX512_CORE_BF16", "cpu-avx512-bf16"), ("AVX512_CORE_FP16", "cpu-avx512-bf16"),
    ("AVX512_CORE_AMX", "cpu-avx512-bf16"), ("AVX10", "cpu-avx512-bf16"),
    ("AVX512_CORE", "cpu-avx512"), ("AVX2", "cpu-avx2"), ("AVX", "cpu-other"),
    ("SSE", "cpu-other"),
)


@functools.lru_cache(maxsize=None)
def cpu_flags(path="/proc/cpuinfo"):
    """The CPU feature flags of the first processor in ``path`` (empty where unreadable).

    Parameters
    ----------
    path : str
        A Linux ``/proc/cpuinfo``-style file.

    Returns
    -------
    frozenset of str
    """
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def cpu_kind(flags, environ=None):
    """The CPU kind for ``flags``, capped by oneDNN's settings in ``environ``.

    Parameters
    ----------
    flags : iterable of str
        CPU feature flags as in ``/proc/cpuinfo``.
    environ : mapping, optional
        Environment (default ``os.environ``): ``ONEDNN_MAX_CPU_ISA``,
        ``DNNL_MAX_CPU_ISA`` and ``TF_ENABLE_ONEDNN_OPTS`` lower the kind.

    Returns
    -------
    str
        One of ``"cpu-avx512-bf16"``, ``"cpu-avx512"``, ``"cpu-avx2"``,
        ``"cpu-other"``.

    Examples
    --------
    >>> cpu_kind({"avx2", "fma"}, environ={})
    'cpu-avx2'
    >>> cpu_kind({"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16"},
    ...          environ={"ONEDNN_MAX_CPU_ISA": "AVX2"})
    'cpu-avx2'
    """
    environ = os.environ if environ is None else environ
    flags = set(flags)
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        level = 3 if flags & {"avx512_bf16", "amx_bf16"} else 2
    elif {"avx2", "fma"} <= flags:
        level = 1
    else:
        level = 0
    isa = (environ.get("ONEDNN_MAX_CPU_ISA") or environ.get("DNNL_MAX_CPU_ISA") or "").upper()
    for prefix, kind in _ONEDNN_CAPS:
        if isa.startswith(prefix):
            level = min(level, _CPU_LEVELS.index(kind))
            break
    if environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower() in ("0", "false", "off"):
        level = min(level, 1)
    return _CPU_LEVELS[level]


@functools.lru_cache(maxsize=None)
def _gpu_capabilities():
    """Compute capabilities ``(major, minor)`` of the GPUs TensorFlow sees (None if unknown)."""
    import tensorflow as tf

    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            capability = tf.config.experimental.get_device_details(gpu).get(
                "compute_capability")
        except (ValueError, RuntimeError):
            capability = None
        capabilities.append(tuple(capability) if capability else None)
    return tuple(capabilities)


def gpu_compute_capability():
    """The lowest compute capability of the visible GPUs, or None (no GPU, or unknown).

    Returns
    -------
    tuple of int or None
    """
    capabilities = _gpu_capabilities()
    if not capabilities or None in capabilities:
        return None
    return min(capabilities)


def _override_kind(environ):
    kind = environ.get("SOLAR_EUV_DEVICE_KIND", "").strip()
    if not kind:
        return None
    if kind not in KINDS:
        warnings.warn(f"SOLAR_EUV_DEVICE_KIND={kind!r} is not one of {', '.join(KINDS)}; "
                      "it is ignored", SolarEUVWarning, stacklevel=3)
        return None
    return kind


def device_kind(environ=None):
    """The kind of device this process trains on (see the module; one of :data:`KINDS`).

    Parameters
    ----------
    environ : mapping, optional
        Environment (default ``os.environ``).

    Returns
    -------
    str
    """
    environ = os.environ if environ is None else environ
    override = _override_kind(environ)
    if override:
        return override
    if _gpu_capabilities():
        return "gpu"
    return cpu_kind(cpu_flags(), environ)


def fast_paths_enabled(environ=None):
    """False when ``SOLAR_EUV_FAST_PATHS`` turns every fast path off.

    Parameters
    ----------
    environ : mapping, optional
        Environment (default ``os.environ``).

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
        Environment (default ``os.environ``).

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
        Environment (default ``os.environ``).

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


@contextlib.contextmanager
def using_device_kind(kind):
    """Within the block, the fast paths (and precision choice) of ``kind``, switch ignored.

    Sets ``SOLAR_EUV_DEVICE_KIND`` and removes ``SOLAR_EUV_FAST_PATHS`` from
    ``os.environ``, restoring both on exit; layers traced inside the block
    keep the paths they took.  The benchmarks and the tests of the fast
    layers use it to run those paths on any machine.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown device kind {kind!r}; choose one of {', '.join(KINDS)}")
    saved = {name: os.environ.get(name)
             for name in ("SOLAR_EUV_DEVICE_KIND", "SOLAR_EUV_FAST_PATHS")}
    os.environ["SOLAR_EUV_DEVICE_KIND"] = kind
    os.environ.pop("SOLAR_EUV_FAST_PATHS", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def native_bfloat16(kind):
    """Whether ``kind`` computes bfloat16 natively (False for GPUs: see :func:`auto_precision`).

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.

    Returns
    -------
    bool
    """
    return kind == "cpu-avx512-bf16"


def auto_precision(kind, capability=None):
    """The Keras dtype policy ``--precision auto`` picks for a device kind.

    float32 on CPUs without native bfloat16, ``mixed_bfloat16`` on CPUs with
    it, ``mixed_float16`` on GPUs with tensor cores (compute capability 7.0
    or higher), float32 on older or unidentified GPUs.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    capability : tuple of int, optional
        The GPU's compute capability ``(major, minor)``.

    Returns
    -------
    str

    Examples
    --------
    >>> auto_precision("cpu-avx2"), auto_precision("cpu-avx512-bf16")
    ('float32', 'mixed_bfloat16')
    >>> auto_precision("gpu", (8, 0)), auto_precision("gpu", (6, 1))
    ('mixed_float16', 'float32')
    """
    if kind == "gpu":
        return "mixed_float16" if capability is not None and capability >= (7, 0) \
            else "float32"
    return "mixed_bfloat16" if native_bfloat16(kind) else "float32"


_warned = set()


def resolve_precision(requested, recorded=None, environ=None):
    """The dtype policy a run uses for ``--precision requested``.

    ``"auto"`` gives ``recorded`` when the run directory already holds a run
    (so a resumed run keeps its policy, on this machine or another),
    otherwise :func:`auto_precision` of this device.  An explicit
    ``mixed_bfloat16`` on a CPU without native bfloat16 warns once per
    process (a :class:`~solar_euv.exceptions.SolarEUVWarning`): it is
    emulated there and :data:`EMULATED_BFLOAT16_COST`.

    Parameters
    ----------
    requested : str
        One of :data:`PRECISIONS`.
    recorded : str, optional
        The policy recorded by an earlier run in the same directory.
    environ : mapping, optional
        Environment (default ``os.environ``).

    Returns
    -------
    str
        ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``.
    """
    if requested not in PRECISIONS:
        raise ValueError(f"unknown precision {requested!r}; choose one of "
                         + ", ".join(PRECISIONS))
    environ = os.environ if environ is None else environ
    if requested == "auto":
        if recorded in PRECISIONS[1:]:
            return recorded
        kind = device_kind(environ)
        return auto_precision(kind, gpu_compute_capability() if kind == "gpu" else None)
    kind = device_kind(environ)
    if requested == "mixed_bfloat16" and kind.startswith("cpu") and not native_bfloat16(kind) \
            and kind not in _warned:
        _warned.add(kind)
        warnings.warn(f"--precision mixed_bfloat16 on this CPU ({kind}: no AVX512_BF16 or "
                      f"AMX-BF16) is emulated, {EMULATED_BFLOAT16_COST}; --precision auto "
                      "or float32 trains in float32", SolarEUVWarning, stacklevel=2)
    return requested


def run_precision(requested, run_dir, force=False):
    """The policy of a training run in ``run_dir``, and what ``config.json`` records of it.

    ``"auto"`` in a directory that already holds a run (and without
    ``force``) gives the policy that run recorded (``identity.precision`` of
    its ``config.json``), so a resumed run keeps it; otherwise
    :func:`resolve_precision` of this device.

    Parameters
    ----------
    requested : str
        ``--precision``: one of :data:`PRECISIONS`.
    run_dir : str or os.PathLike
        The run directory.
    force : bool
        The run starts over (``--force``): nothing recorded counts.

    Returns
    -------
    dict
        ``requested``, ``policy`` (the resolved Keras dtype policy) and
        ``device_kind``.
    """
    recorded = None
    if not force:
        try:
            existing = json.loads((pathlib.Path(run_dir) / "config.json").read_text())
            recorded = existing["identity"]["precision"]
        except (OSError, ValueError, KeyError, TypeError):
            recorded = None  # no run yet (a damaged config.json is named later)
    return {"requested": requested, "policy": resolve_precision(requested, recorded),
            "device_kind": device_kind()}
