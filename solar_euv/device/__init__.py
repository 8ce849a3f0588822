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
from solar_euv.device.kind import (KINDS, cpu_flags, cpu_kind, device_kind,
                                   gpu_compute_capability, using_device_kind)
from solar_euv.device.paths import (FAST_PATHS, MEASURED_KIND, NO_FAST_PATHS, FastPaths,
                                    fast_path_variant, fast_paths, fast_paths_enabled,
                                    using_fast_paths)
from solar_euv.device.precision import (EMULATED_BFLOAT16_COST, PRECISIONS, auto_precision,
                                        native_bfloat16, resolve_precision, run_precision)

__all__ = ["KINDS", "FastPaths", "FAST_PATHS", "NO_FAST_PATHS", "MEASURED_KIND",
           "cpu_flags", "cpu_kind", "device_kind", "fast_paths", "fast_paths_enabled",
           "native_bfloat16", "gpu_compute_capability", "auto_precision",
           "resolve_precision", "PRECISIONS", "EMULATED_BFLOAT16_COST", "using_device_kind",
           "using_fast_paths", "fast_path_variant", "run_precision"]
