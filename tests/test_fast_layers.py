"""FusedBatchNormalization and MatmulConv2DTranspose compute what the Keras layers compute."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from solar_euv.models import build_pix2pix
from solar_euv.models.fused_batch_normalization import FusedBatchNormalization
from solar_euv.models.matmul_conv2d import (MATMUL_MAX_FILTERS, MATMUL_MAX_INPUT_CHANNELS,
                                           MatmulConv2D)
from solar_euv.models.matmul_conv2d_transpose import (MATMUL_MAX_OUTPUT_CHANNELS,
                                                      MATMUL_MAX_PIXELS, MatmulConv2DTranspose)


def _bn_pair(**kwargs):
    config = dict(momentum=0.9, epsilon=1.01e-5,
                  gamma_initializer=keras.initializers.RandomNormal(1.0, 0.2, seed=1),
                  beta_initializer=keras.initializers.RandomNormal(0.0, 0.3, seed=2))
    config.update(kwargs)
    return keras.layers.BatchNormalization(**config), FusedBatchNormalization(**config)


def _value_and_grads(layer, x, weight):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(tf.cast(y, "float32") * weight)
    return y, tape.gradient(loss, [x] + layer.trainable_variables)


def _conv_pair_results(ref, new, shape, rng):
    """Output, input gradient and kernel gradient of two conv layers with the same weights.

    Both layers are built for ``shape``, given the same random weights and
    called (as a ``tf.function``) on the same random input; the loss is the
    output weighted by a random tensor of its shape.
    """
    ref.build(shape)
    new.build(shape)
    ref.set_weights([rng.normal(size=w.shape).astype("float32") for w in ref.get_weights()])
    new.set_weights(ref.get_weights())
    x = tf.constant(rng.normal(size=shape).astype("float32"))
    weight = tf.constant(rng.normal(size=ref.compute_output_shape(shape)).astype("float32"))
    results = []
    for layer in (ref, new):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.function(layer)(x)
            loss = tf.reduce_sum(tf.cast(y, "float32") * weight)
        results.append([y] + tape.gradient(loss, [x, layer.kernel.value]))
    return results


@pytest.mark.parametrize("shape", [(1, 16, 16, 8), (3, 4, 4, 5), (2, 1, 1, 3), (1, 2, 2, 4)])
def test_fused_batch_norm_matches_keras_in_training(shape):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(2.0, 3.0, size=shape).astype("float32"))
    weight = tf.constant(rng.normal(size=shape).astype("float32"))
    ref, new = _bn_pair()
    ref.build(shape)
    new.build(shape)
    new.set_weights(ref.get_weights())
    y_ref, g_ref = _value_and_grads(ref, x, weight)
    y_new, g_new = _value_and_grads(new, x, weight)
    # A single value per channel (batch 2 of 1x1 is two values; 1x1x1 is
    # one: zero variance) is the worst case for rounding of the normalisation.
    np.testing.assert_allclose(y_new, y_ref, rtol=1e-5, atol=5e-5)
    for a, b in zip(g_ref, g_new):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=5e-5)
    # Moving statistics: Keras's biased variance, not the kernel's unbiased one.
    np.testing.assert_allclose(new.moving_mean, ref.moving_mean, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(new.moving_variance, ref.moving_variance, rtol=1e-5)
    # Inference uses the moving statistics, as Keras does.
    np.testing.assert_allclose(new(x, training=False), ref(x, training=False),
                               rtol=1e-5, atol=1e-5)


def test_fused_batch_norm_in_bfloat16_matches_keras():
    shape = (1, 8, 8, 6)
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=shape).astype("float32"))
    ref, new = _bn_pair(dtype="mixed_bfloat16")
    ref.build(shape)
    new.build(shape)
    new.set_weights(ref.get_weights())
    xb = tf.cast(x, "bfloat16")
    y_ref = ref(xb, training=True)
    y_new = new(xb, training=True)
    assert y_new.dtype == y_ref.dtype == tf.bfloat16
    np.testing.assert_allclose(tf.cast(y_new, "float32"), tf.cast(y_ref, "float32"),
                               atol=0.05)
    np.testing.assert_allclose(new.moving_variance, ref.moving_variance, rtol=1e-2)


def test_fused_batch_norm_config_round_trip():
    layer = FusedBatchNormalization(momentum=0.7, epsilon=1e-3, center=False, name="bn")
    clone = FusedBatchNormalization.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert keras.saving.get_registered_name(FusedBatchNormalization) == \
        "solar_euv>FusedBatchNormalization"
    x = tf.random.stateless_normal((2, 3, 3, 4), seed=(1, 2))
    layer.build(x.shape)
    clone.build(x.shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x, training=True), layer(x, training=True), atol=1e-6)


@pytest.mark.parametrize("size,channels_in,channels_out,batch", [
    (1, 3, 2, 1), (4, 5, 7, 2), (8, 16, 4, 1),  # pixels <= 16 * out: kernel-first product
    (16, 4, 3, 2),  # above MATMUL_MAX_PIXELS: the Keras path
    (16, 6, 1, 2),  # above MATMUL_MAX_PIXELS, one output channel: inputs-first product
])
def test_matmul_conv_transpose_matches_keras(size, channels_in, channels_out, batch):
    rng = np.random.default_rng(size)
    kwargs = dict(filters=channels_out, kernel_size=4, strides=2, padding="same",
                  use_bias=False)
    ref = keras.layers.Conv2DTranspose(**kwargs)
    new = MatmulConv2DTranspose(**kwargs)
    shape = (batch, size, size, channels_in)
    assert new._matmul_path(keras.KerasTensor(shape)) == (
        size * size <= MATMUL_MAX_PIXELS or channels_out <= MATMUL_MAX_OUTPUT_CHANNELS)
    results = _conv_pair_results(ref, new, shape, rng)
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def test_matmul_conv_transpose_bias_activation_and_graph():
    kwargs = dict(filters=3, kernel_size=4, strides=2, padding="same", use_bias=True,
                  activation="tanh", bias_initializer="random_normal")
    keras.utils.set_random_seed(3)
    ref = keras.layers.Conv2DTranspose(**kwargs)
    new = MatmulConv2DTranspose(**kwargs)
    x = tf.random.stateless_normal((2, 4, 4, 5), seed=(3, 4))
    ref.build(x.shape)
    new.build(x.shape)
    new.set_weights(ref.get_weights())
    expected = ref(x)
    np.testing.assert_allclose(new(x), expected, atol=1e-6)
    np.testing.assert_allclose(tf.function(new)(x), expected, atol=1e-6)
    # Unknown batch size in a graph.
    spec = tf.TensorSpec((None, 4, 4, 5), tf.float32)
    np.testing.assert_allclose(tf.function(new, input_signature=[spec])(x), expected,
                               atol=1e-6)


def test_pix2pix_with_fast_layers_round_trips(tmp_path):
    """Non-default sizes, saved and loaded: same outputs, same layer classes."""
    from solar_euv.models import load_model

    model = build_pix2pix(64, model="B", base_filters=4, bottleneck_size=1,
                          out_channels=2)
    model.compile()
    x = tf.random.stateless_normal((2, 64, 64, 1), seed=(5, 6))
    y = tf.random.stateless_uniform((2, 64, 64, 2), seed=(7, 8), minval=-1, maxval=1)
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    kinds = {type(layer).__name__ for layer in model.generator.layers}
    assert {"FusedBatchNormalization", "MatmulConv2DTranspose", "MatmulConv2D"} <= kinds
    assert "MatmulConv2D" in {type(layer).__name__ for layer in model.discriminator.layers}
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)
    assert {type(layer).__name__ for layer in loaded.generator.layers} == kinds


@pytest.mark.parametrize("size,kernel,channels_in,filters,batch", [
    (9, 4, 6, 1, 1), (7, 3, 5, 2, 2), (5, 1, 4, 1, 3),
    (9, 4, 6, 8, 1),  # more filters than MATMUL_MAX_FILTERS: the Keras path
])
def test_matmul_conv_matches_keras(size, kernel, channels_in, filters, batch):
    rng = np.random.default_rng(kernel)
    kwargs = dict(filters=filters, kernel_size=kernel, strides=1, padding="valid",
                  use_bias=False)
    ref = keras.layers.Conv2D(**kwargs)
    new = MatmulConv2D(**kwargs)
    shape = (batch, size, size, channels_in)
    assert new._matmul_path(keras.KerasTensor(shape)) == (filters <= MATMUL_MAX_FILTERS)
    results = _conv_pair_results(ref, new, shape, rng)
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size,channels_in,filters,batch,precision", [
    (10, 2, 8, 1, "float32"), (18, 3, 5, 2, "float32"),
    (12, MATMUL_MAX_INPUT_CHANNELS, 4, 1, "float32"),
    (34, 2, 16, 1, "mixed_bfloat16"),
    (10, MATMUL_MAX_INPUT_CHANNELS + 1, 8, 1, "float32"),  # too many channels: Keras
    (11, 2, 8, 1, "float32"),  # odd (height - 4): Keras
])
def test_strided_conv_input_gradient_matches_keras(size, channels_in, filters, batch,
                                                   precision):
    """Kernel 4, stride 2, valid (the PatchGAN's first layer): values and both gradients."""
    rng = np.random.default_rng(size + channels_in)
    kwargs = dict(filters=filters, kernel_size=4, strides=2, padding="valid",
                  use_bias=False, dtype=precision)
    ref = keras.layers.Conv2D(**kwargs)
    new = MatmulConv2D(**kwargs)
    shape = (batch, size, size, channels_in)
    expect_path = channels_in <= MATMUL_MAX_INPUT_CHANNELS and (size - 4) % 2 == 0
    assert new._input_gradient_path(keras.KerasTensor(shape)) == expect_path
    assert not new._matmul_path(keras.KerasTensor(shape))
    results = _conv_pair_results(ref, new, shape, rng)
    # bfloat16 keeps 8 bits: the two sums round differently.
    tol = 1e-5 if precision == "float32" else 2e-2
    for a, b in zip(*results):
        a, b = np.asarray(a, "float32"), np.asarray(b, "float32")
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol * np.abs(a).max())


def test_strided_conv_input_gradient_with_unknown_batch():
    layer = MatmulConv2D(4, 4, strides=2, padding="valid", use_bias=False)
    ref = keras.layers.Conv2D(4, 4, strides=2, padding="valid", use_bias=False)
    x = tf.random.stateless_normal((3, 10, 10, 2), seed=(5, 6))
    layer.build(x.shape)
    ref.build(x.shape)
    layer.set_weights(ref.get_weights())

    @tf.function(input_signature=[tf.TensorSpec((None, 10, 10, 2), tf.float32)])
    def input_gradient(inputs):
        grads = []
        for conv in (ref, layer):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                loss = tf.reduce_sum(conv(inputs) ** 2)
            grads.append(tape.gradient(loss, inputs))
        return grads

    expected, got = input_gradient(x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
