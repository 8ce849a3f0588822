"""The Keras dtype policy that fits a device kind (``--precision``).

``auto`` picks float32, ``mixed_bfloat16`` (CPUs with native bfloat16) or
``mixed_float16`` (GPUs with tensor cores); a resumed run keeps the policy
its run directory recorded.
"""
import json
import os
import pathlib
import warnings

from solar_euv.device.kind import device_kind, gpu_compute_capability
from solar_euv.exceptions import SolarEUVWarning

__all__ = ["PRECISIONS", "EMULATED_BFLOAT16_COST", "native_bfloat16", "auto_precision",
           "resolve_precision", "run_precision"]

#: Values of ``--precision``.
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
#: What emulated bfloat16 was measured to cost (issue 15, an AMD EPYC Zen 3
#: with AVX2 only, 2 cores, TF 2.21, Model B at 256 px).
EMULATED_BFLOAT16_COST = ("about 10x slower than float32 (Model B at 256 px: about 14 s "
                          "against 1.2 s per step on a 2-core AVX2 CPU)")


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
        Where the device kind is read (default ``os.environ``).

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
