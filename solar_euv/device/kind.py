"""Which kind of device this process computes on: GPU, or the CPU's instruction set.

The kinds (:data:`KINDS`; the package :mod:`solar_euv.device` describes them)
are detected from TensorFlow's GPUs and ``/proc/cpuinfo``, capped by oneDNN's
``ONEDNN_MAX_CPU_ISA`` / ``DNNL_MAX_CPU_ISA`` and ``TF_ENABLE_ONEDNN_OPTS=0``;
``SOLAR_EUV_DEVICE_KIND=<kind>`` replaces the detected kind (read at each call).
"""
import contextlib
import functools
import os
import warnings

from solar_euv.exceptions import SolarEUVWarning

__all__ = ["KINDS", "cpu_flags", "cpu_kind", "gpu_compute_capability", "device_kind",
           "using_device_kind"]

#: Device kinds, fastest CPU first.
KINDS = ("gpu", "cpu-avx512-bf16", "cpu-avx512", "cpu-avx2", "cpu-other")
_CPU_LEVELS = ("cpu-other", "cpu-avx2", "cpu-avx512", "cpu-avx512-bf16")

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
        Where ``SOLAR_EUV_DEVICE_KIND`` and oneDNN's caps are read
        (default ``os.environ``).

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

