"""Device kinds, the per-kind fast-path table, the switch and the precision choice."""
import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from solar_euv import device
from solar_euv.device import precision
from solar_euv.device import (FAST_PATHS, KINDS, MEASURED_KIND, NO_FAST_PATHS, auto_precision,
                              cpu_flags, cpu_kind, device_kind, fast_paths, resolve_precision,
                              using_device_kind)
from solar_euv.exceptions import SolarEUVWarning
from solar_euv.models.fused_adam import FusedAdam
from solar_euv.models.fused_batch_normalization import FusedBatchNormalization
from solar_euv.models.matmul_conv2d import MatmulConv2D
from solar_euv.models.matmul_conv2d_transpose import MatmulConv2DTranspose

AVX2 = {"sse4_2", "avx", "avx2", "fma"}
AVX512 = AVX2 | {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"}

# A /proc/cpuinfo of an AVX2-only AMD EPYC (Zen 3), two processors, shortened.
ZEN3_CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 vaes
bugs\t\t: sysret_ss_attrs

processor\t: 1
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 vaes
"""


@pytest.fixture
def clean_env(monkeypatch):
    """No kind override, no switch, no oneDNN cap: detection from this machine."""
    for name in ("SOLAR_EUV_DEVICE_KIND", "SOLAR_EUV_FAST_PATHS", "ONEDNN_MAX_CPU_ISA",
                 "DNNL_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_cpuinfo_flags_are_read_from_the_first_processor(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(ZEN3_CPUINFO)
    flags = cpu_flags(str(path))
    assert {"avx2", "fma", "vaes"} <= flags and "avx512f" not in flags
    assert cpu_kind(flags, environ={}) == "cpu-avx2"
    assert cpu_flags(str(tmp_path / "absent")) == frozenset()


@pytest.mark.parametrize("flags, kind", [
    (AVX512 | {"avx512_bf16"}, "cpu-avx512-bf16"),
    (AVX512 | {"amx_bf16", "amx_tile"}, "cpu-avx512-bf16"),
    (AVX512, "cpu-avx512"),
    (AVX512 - {"avx512bw"}, "cpu-avx2"),  # not oneDNN's avx512_core (Xeon Phi)
    (AVX2, "cpu-avx2"),
    ({"sse4_2", "avx"}, "cpu-other"),
    (set(), "cpu-other"),
])
def test_cpu_kind_from_flags(flags, kind):
    assert cpu_kind(flags, environ={}) == kind


@pytest.mark.parametrize("environ, kind", [
    ({"ONEDNN_MAX_CPU_ISA": "AVX2"}, "cpu-avx2"),
    ({"ONEDNN_MAX_CPU_ISA": "avx2_vnni"}, "cpu-avx2"),
    ({"DNNL_MAX_CPU_ISA": "AVX512_CORE"}, "cpu-avx512"),
    ({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI"}, "cpu-avx512"),
    ({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}, "cpu-avx512-bf16"),
    ({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"}, "cpu-avx512-bf16"),
    ({"ONEDNN_MAX_CPU_ISA": "ALL"}, "cpu-avx512-bf16"),
    ({"ONEDNN_MAX_CPU_ISA": "SSE41"}, "cpu-other"),
    ({"TF_ENABLE_ONEDNN_OPTS": "0"}, "cpu-avx2"),
])
def test_onednn_settings_cap_the_kind(environ, kind):
    assert cpu_kind(AVX512 | {"avx512_bf16"}, environ=environ) == kind


def test_a_cap_never_raises_the_kind():
    assert cpu_kind(AVX2, environ={"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"}) == "cpu-avx2"


def test_every_kind_has_a_table_row_and_unmeasured_kinds_are_conservative():
    assert set(FAST_PATHS) == set(KINDS)
    measured = FAST_PATHS[MEASURED_KIND]
    assert measured.convt_max_pixels == 64 and measured.conv_max_filters == 4
    assert measured.fused_batch_norm and measured.fused_adam and measured.kernel_first
    # The matrix-product paths replaced slow oneDNN CPU kernels: off on GPUs
    # and unknown CPUs until measured there.
    for kind in ("gpu", "cpu-other"):
        paths = FAST_PATHS[kind]
        assert (paths.convt_max_pixels, paths.convt_max_output_channels,
                paths.conv_max_filters, paths.conv_max_input_channels) == (0, 0, 0, 0)
        assert not paths.kernel_first
    assert NO_FAST_PATHS == device.FastPaths()
    assert not any(vars(NO_FAST_PATHS).values())


def test_detection_override_and_switch(clean_env):
    detected = device_kind()
    assert detected in KINDS
    assert fast_paths() == FAST_PATHS[detected]
    clean_env.setenv("SOLAR_EUV_DEVICE_KIND", "gpu")
    assert device_kind() == "gpu" and fast_paths() == FAST_PATHS["gpu"]
    for off in ("0", "off", "False", "no"):
        clean_env.setenv("SOLAR_EUV_FAST_PATHS", off)
        assert fast_paths() == NO_FAST_PATHS
    clean_env.setenv("SOLAR_EUV_FAST_PATHS", "1")
    assert fast_paths() == FAST_PATHS["gpu"]


def test_bad_override_or_switch_warns_and_is_ignored(clean_env):
    clean_env.setenv("SOLAR_EUV_DEVICE_KIND", "tpu")
    clean_env.setenv("SOLAR_EUV_FAST_PATHS", "maybe")
    with pytest.warns(SolarEUVWarning) as record:
        paths = fast_paths()
    messages = " ".join(str(w.message) for w in record)
    assert "SOLAR_EUV_DEVICE_KIND='tpu'" in messages and "SOLAR_EUV_FAST_PATHS" in messages
    assert paths == FAST_PATHS[device_kind({})]


def test_using_device_kind_restores_the_environment(clean_env):
    clean_env.setenv("SOLAR_EUV_FAST_PATHS", "0")
    with using_device_kind("cpu-other"):
        assert device_kind() == "cpu-other" and fast_paths() == FAST_PATHS["cpu-other"]
    assert fast_paths() == NO_FAST_PATHS
    assert "SOLAR_EUV_DEVICE_KIND" not in os.environ
    with pytest.raises(ValueError, match="unknown device kind"):
        with using_device_kind("tpu"):
            pass


def _paths_taken():
    """Which fast path each layer takes for the networks' shapes, as traced now."""
    convt = MatmulConv2DTranspose(512, 4, strides=2, padding="same", use_bias=False)
    output = MatmulConv2DTranspose(1, 4, strides=2, padding="same", use_bias=False)
    logits = MatmulConv2D(1, 4, use_bias=False)
    pair = MatmulConv2D(64, 4, strides=2, use_bias=False)
    bn = FusedBatchNormalization()
    return {
        "convt 4x4": convt._matmul_path(keras.KerasTensor((1, 4, 4, 512))),
        "convt 1 channel": output._matmul_path(keras.KerasTensor((1, 128, 128, 64))),
        "logits": logits._matmul_path(keras.KerasTensor((1, 33, 33, 512))),
        "pair gradient": pair._input_gradient_path(keras.KerasTensor((1, 258, 258, 2))),
        "fused bn": bn._fusable(keras.KerasTensor((1, 8, 8, 3)), True, None),
    }


@pytest.mark.parametrize("kind", KINDS)
def test_the_layers_follow_the_table(kind):
    table = FAST_PATHS[kind]
    with using_device_kind(kind):
        taken = _paths_taken()
    assert taken == {"convt 4x4": table.convt_max_pixels >= 16,
                     "convt 1 channel": table.convt_max_output_channels >= 1,
                     "logits": table.conv_max_filters >= 1,
                     "pair gradient": table.conv_max_input_channels >= 2,
                     "fused bn": table.fused_batch_norm}
    if kind in ("gpu", "cpu-other"):
        assert not any(v for k, v in taken.items() if k != "fused bn")


def test_the_switch_turns_every_path_off_and_the_outputs_stay_keras(clean_env):
    with using_device_kind(MEASURED_KIND):
        assert all(_paths_taken().values())
    clean_env.setenv("SOLAR_EUV_FAST_PATHS", "0")
    assert not any(_paths_taken().values())
    # An instance threshold (the layer benchmark's) still forces the product.
    convt = MatmulConv2DTranspose(8, 4, strides=2, padding="same", use_bias=False)
    convt.max_matmul_pixels = 16
    assert convt._matmul_path(keras.KerasTensor((1, 4, 4, 16)))
    # Without the fast paths the layer is Keras's: same output as the stock layer.
    layer = MatmulConv2D(1, 4, use_bias=False)
    stock = keras.layers.Conv2D(1, 4, use_bias=False)
    x = np.random.default_rng(0).normal(size=(1, 9, 9, 8)).astype("float32")
    stock.build(x.shape)
    layer.build(x.shape)
    layer.set_weights(stock.get_weights())
    np.testing.assert_array_equal(layer(x), stock(x))


def test_adam_without_fast_paths_runs_keras_update_with_the_same_result(clean_env):
    def updated(switch):
        clean_env.setenv("SOLAR_EUV_FAST_PATHS", switch)
        variable = keras.Variable(np.linspace(-1, 1, 6).astype("float32"))
        opt = FusedAdam(learning_rate=0.1, beta_1=0.5)

        @tf.function
        def step():
            opt.apply_gradients([(tf.constant([0.3, -0.2, 0.1, 0.0, 2.0, -1.0]), variable)])

        step()
        step()
        ops = {op.type for op in step.get_concrete_function().graph.get_operations()}
        return variable.numpy(), "ResourceApplyAdam" in ops

    fused, fused_ops = updated("1")
    plain, plain_ops = updated("0")
    assert fused_ops and not plain_ops
    # The same update up to float32 rounding (tests/test_optimizers.py): 2e-4
    # steps of size 0.1 moved the weights by about 0.2.
    np.testing.assert_allclose(plain, fused, rtol=1e-5, atol=1e-5)
    assert not np.allclose(plain, np.linspace(-1, 1, 6), atol=0.1)


@pytest.mark.parametrize("kind, capability, policy", [
    ("cpu-avx512-bf16", None, "mixed_bfloat16"),
    ("cpu-avx512", None, "float32"),
    ("cpu-avx2", None, "float32"),
    ("cpu-other", None, "float32"),
    ("gpu", (7, 0), "mixed_float16"),
    ("gpu", (9, 0), "mixed_float16"),
    ("gpu", (6, 1), "float32"),
    ("gpu", None, "float32"),
])
def test_auto_precision_per_kind(kind, capability, policy):
    assert auto_precision(kind, capability) == policy


def test_resolve_auto_follows_the_device_or_the_recorded_run(clean_env):
    assert resolve_precision("auto", environ={"SOLAR_EUV_DEVICE_KIND": "cpu-avx2"}) == "float32"
    assert resolve_precision("auto", environ={"SOLAR_EUV_DEVICE_KIND": "cpu-avx512-bf16"}) \
        == "mixed_bfloat16"
    # A resumed run keeps the policy it started with, whatever this machine is.
    assert resolve_precision("auto", recorded="mixed_bfloat16",
                             environ={"SOLAR_EUV_DEVICE_KIND": "cpu-avx2"}) == "mixed_bfloat16"
    assert resolve_precision("auto", recorded="auto",
                             environ={"SOLAR_EUV_DEVICE_KIND": "cpu-avx2"}) == "float32"
    assert resolve_precision("float32", recorded="mixed_bfloat16") == "float32"
    with pytest.raises(ValueError, match="unknown precision"):
        resolve_precision("float64")


def test_emulated_bfloat16_warns_once_with_its_cost(clean_env):
    clean_env.setattr(precision, "_warned", set())
    avx2 = {"SOLAR_EUV_DEVICE_KIND": "cpu-avx2"}
    with pytest.warns(SolarEUVWarning, match=r"emulated, about 10x slower than float32"):
        assert resolve_precision("mixed_bfloat16", environ=avx2) == "mixed_bfloat16"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve_precision("mixed_bfloat16", environ=avx2)  # once per process
        resolve_precision("mixed_bfloat16", environ={"SOLAR_EUV_DEVICE_KIND": MEASURED_KIND})
        resolve_precision("float32", environ={"SOLAR_EUV_DEVICE_KIND": "cpu-other"})
        resolve_precision("mixed_bfloat16", environ={"SOLAR_EUV_DEVICE_KIND": "gpu"})


def test_fast_path_variants_and_using_fast_paths(clean_env):
    env = {"SOLAR_EUV_DEVICE_KIND": MEASURED_KIND}
    assert device.fast_path_variant("table", env) == FAST_PATHS[MEASURED_KIND]
    assert device.fast_path_variant("off", env) == NO_FAST_PATHS
    assert device.fast_path_variant("gpu", env) == FAST_PATHS["gpu"]
    no_bn = device.fast_path_variant("no-fused_batch_norm", env)
    assert not no_bn.fused_batch_norm and no_bn.convt_max_pixels == 64
    assert device.fast_path_variant("no-convt_max_pixels", env).convt_max_pixels == 0
    with pytest.raises(ValueError, match="unknown fast-path variant"):
        device.fast_path_variant("no-everything", env)
    clean_env.setenv("SOLAR_EUV_FAST_PATHS", "0")
    with device.using_fast_paths(no_bn):
        assert fast_paths() == no_bn  # wins over the switch, in this process
        assert _paths_taken() == {"convt 4x4": True, "convt 1 channel": True,
                                  "logits": True, "pair gradient": True, "fused bn": False}
    assert fast_paths() == NO_FAST_PATHS
    with pytest.raises(TypeError):
        with device.using_fast_paths("off"):
            pass
