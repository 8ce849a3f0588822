"""The PatchGAN discriminator and the receptive-field calculation."""
import keras
import numpy as np
import pytest

from solar_euv.models import (NOMINAL_RECEPTIVE_FIELDS, PatchDiscriminator,
                              build_discriminator, receptive_field)


@pytest.mark.parametrize("size,patches", [(1024, 126), (512, 62), (256, 30)])
def test_output_shape_and_receptive_field_at_paper_sizes(size, patches):
    disc = build_discriminator(size) if size != 256 else build_discriminator(
        size, base_filters=8)
    assert disc.output_shape == (None, patches, patches, 1)
    assert receptive_field(disc) == 70


def test_1024_discriminator_layout_and_count():
    disc = build_discriminator(1024)
    convs = [layer for layer in disc.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [(c.filters, c.strides[0], c.kernel_size[0]) for c in convs] == [
        (64, 2, 4), (128, 2, 4), (256, 2, 4), (512, 1, 4), (1, 1, 4)]
    assert not any(c.use_bias for c in convs)
    bns = [layer.name for layer in disc.layers
           if isinstance(layer, keras.layers.BatchNormalization)]
    assert bns == ["bn2", "bn3", "bn4"]
    kernels = 16 * (2 * 64 + 64 * 128 + 128 * 256 + 256 * 512 + 512 * 1)
    assert disc.count_params() == kernels + 4 * (128 + 256 + 512) == 2_766_336


@pytest.mark.parametrize("depth", sorted(NOMINAL_RECEPTIVE_FIELDS))
def test_receptive_field_from_built_layers_equals_nominal(depth):
    disc = build_discriminator(512, n_layers=depth, base_filters=4, max_filters=8)
    assert receptive_field(disc) == NOMINAL_RECEPTIVE_FIELDS[depth]
    assert disc.output_shape[-1] == 1


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_receptive_field_is_what_one_output_sees(depth):
    """The gradient of one central logit is non-zero on a window exactly that wide."""
    import tensorflow as tf

    disc = build_discriminator(128, n_layers=depth, base_filters=4, synchronized_bn=False)
    rng = np.random.default_rng(depth)
    x = tf.constant(rng.normal(size=(1, 128, 128, 1)), tf.float32)
    y = tf.constant(rng.normal(size=(1, 128, 128, 1)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(y)
        logits = disc([x, y], training=False)
        centre = logits.shape[1] // 2
        out = logits[0, centre, centre, 0]
    grad = tape.gradient(out, y).numpy()[0, :, :, 0]
    rows, cols = np.nonzero(grad)
    assert rows.max() - rows.min() + 1 == NOMINAL_RECEPTIVE_FIELDS[depth]
    assert cols.max() - cols.min() + 1 == NOMINAL_RECEPTIVE_FIELDS[depth]
    assert receptive_field(disc) == NOMINAL_RECEPTIVE_FIELDS[depth]


def test_receptive_field_of_a_plain_chain():
    inputs = keras.Input((32, 32, 1))
    x = keras.layers.Conv2D(1, 3, strides=2)(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(1, 3, dilation_rate=2)(x)
    # 1 + 2*1 + 1*2 + (3-1)*2*4 = 21
    assert receptive_field(keras.Model(inputs, x)) == 21


def test_bad_depth_is_named():
    with pytest.raises(ValueError, match="n_layers=6"):
        PatchDiscriminator(image_size=256, n_layers=6)


def test_config_round_trip_with_non_default_arguments(tmp_path):
    disc = build_discriminator(64, in_channels=2, out_channels=3, n_layers=2, base_filters=4,
                               max_filters=8, synchronized_bn=False, name="d_test")
    path = tmp_path / "d.keras"
    disc.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_config() == disc.get_config()
    assert loaded.get_config()["n_layers"] == 2
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 64, 64, 2)).astype("float32")
    y = rng.uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    np.testing.assert_array_equal(disc.predict([x, y], verbose=0),
                                  loaded.predict([x, y], verbose=0))
