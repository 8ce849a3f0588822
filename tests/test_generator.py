"""The U-Net generator: the seed's network at 1024, other sizes, arguments."""
import keras
import numpy as np
import pytest

from solar_euv.models import UNetGenerator, build_generator, generator_filters


def _conv_layers(model):
    kinds = (keras.layers.Conv2D, keras.layers.Conv2DTranspose)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def _describe(model):
    """Per conv block: (kind, filters, kernel, stride, has BN, has dropout, activation)."""
    layers = model.layers
    blocks = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            continue
        kind = "convT" if isinstance(layer, keras.layers.Conv2DTranspose) else "conv"
        bn = dropout = False
        activation = None
        for nxt in layers[i + 1:]:
            if isinstance(nxt, keras.layers.BatchNormalization):
                bn = True
            elif isinstance(nxt, keras.layers.Dropout):
                dropout = nxt.rate
            elif isinstance(nxt, keras.layers.LeakyReLU):
                activation = f"lrelu{nxt.negative_slope:g}"
                break
            elif isinstance(nxt, keras.layers.ReLU):
                activation = "relu"
                break
            elif isinstance(nxt, keras.layers.Activation):
                activation = nxt.activation.__name__
                break
        blocks.append((kind, layer.filters, layer.kernel_size, layer.strides, bn,
                       dropout, activation, layer.use_bias))
    return blocks


# The seed's U-Net at 1024 (park2019-seed.md), block by block.
SEED_1024 = (
    [("conv", 64, (4, 4), (2, 2), False, False, "lrelu0.2", False)]
    + [("conv", f, (4, 4), (2, 2), True, False, "lrelu0.2", False)
       for f in (128, 256, 512, 512, 512, 512)]
    + [("conv", 512, (4, 4), (2, 2), True, False, "relu", False)]
    + [("convT", 512, (4, 4), (2, 2), True, 0.5, "relu", False)] * 3
    + [("convT", f, (4, 4), (2, 2), True, False, "relu", False) for f in (512, 256, 128, 64)]
    + [("convT", 1, (4, 4), (2, 2), False, False, "tanh", False)]
)


@pytest.fixture(scope="module")
def seed_generator():
    return build_generator(1024)


def test_1024_generator_matches_seed_layer_by_layer(seed_generator):
    assert _describe(seed_generator) == SEED_1024


def test_1024_generator_shapes_skips_and_parameter_count(seed_generator):
    assert seed_generator.input_shape == (None, 1024, 1024, 1)
    assert seed_generator.output_shape == (None, 1024, 1024, 1)
    # Encoder spatial sizes halve from 1024 down to the 4x4 bottleneck.
    enc = [layer for layer in _conv_layers(seed_generator)
           if isinstance(layer, keras.layers.Conv2D)
           and not isinstance(layer, keras.layers.Conv2DTranspose)]
    assert [layer.output.shape[1] for layer in enc] == [512, 256, 128, 64, 32, 16, 8, 4]
    # Decoder blocks concatenate the encoder output of the same size.
    skips = [layer for layer in seed_generator.layers
             if isinstance(layer, keras.layers.Concatenate)]
    assert [tuple(s.output.shape[1:]) for s in skips] == [
        (8, 8, 1024), (16, 16, 1024), (32, 32, 1024), (64, 64, 1024),
        (128, 128, 512), (256, 256, 256), (512, 512, 128)]
    # Counted by hand: conv kernels 4*4*cin*cout plus 4 BN numbers per channel.
    convs = [(1, 64), (64, 128), (128, 256), (256, 512)] + [(512, 512)] * 4
    convts = [(512, 512), (1024, 512), (1024, 512), (1024, 512), (1024, 256),
              (512, 128), (256, 64), (128, 1)]
    kernels = sum(16 * a * b for a, b in convs + convts)
    bn_channels = sum(b for _, b in convs[1:]) + sum(b for _, b in convts[:-1])
    assert seed_generator.count_params() == kernels + 4 * bn_channels == 54_419_712


def test_initialisers_follow_the_paper():
    gen = build_generator(64, base_filters=32, max_filters=64)
    kernel = gen.get_layer("enc2_conv").kernel.numpy()
    gamma = gen.get_layer("enc2_bn").gamma.numpy()
    assert abs(kernel.mean()) < 0.002 and 0.017 < kernel.std() < 0.023
    assert abs(gamma.mean() - 1.0) < 0.01 and 0.01 < gamma.std() < 0.03


@pytest.mark.parametrize("size,levels", [(64, 4), (128, 5), (256, 6), (512, 7), (2048, 9)])
def test_levels_follow_the_size(size, levels):
    filters = generator_filters(size)
    assert len(filters) == levels
    assert filters[:4] == [64, 128, 256, 512][:levels]
    assert all(f == 512 for f in filters[4:])


def test_deep_variant_reaches_1x1_like_the_original_code():
    gen = build_generator(1024, bottleneck_size=1, base_filters=4, max_filters=8)
    enc = [layer.name for layer in gen.layers if layer.name.startswith("enc")
           and layer.name.endswith("_conv")]
    assert len(enc) == 10
    assert gen.get_layer("enc10_conv").output.shape[1:3] == (1, 1)
    names = {layer.name for layer in gen.layers}
    assert "enc10_bn" not in names and "enc9_bn" in names
    assert gen.output_shape == (None, 1024, 1024, 1)


def test_nine_passband_output_and_forward_pass():
    gen = build_generator(64, in_channels=1, out_channels=9, base_filters=8)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 1)).astype("float32")
    y = gen.predict(x, verbose=0)
    assert y.shape == (2, 64, 64, 9)
    assert np.all(np.abs(y) <= 1.0) and np.isfinite(y).all()


@pytest.mark.parametrize("kwargs,match", [
    ({"image_size": 100}, "image_size=100"),
    ({"image_size": 32}, "image_size=32"),
    ({"image_size": 64, "bottleneck_size": 2}, "bottleneck_size=2"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UNetGenerator(**kwargs)


def test_config_round_trip_with_non_default_arguments(tmp_path):
    gen = build_generator(64, in_channels=2, out_channels=3, base_filters=8, max_filters=16,
                          bottleneck_size=1, dropout_rate=0.25, synchronized_bn=False,
                          name="g_test")
    config = gen.get_config()
    dtype = config.pop("dtype")
    assert dtype["config"]["name"] == "float32"
    assert config == {"name": "g_test", "trainable": True, "image_size": 64,
                      "in_channels": 2, "out_channels": 3, "base_filters": 8,
                      "max_filters": 16, "bottleneck_size": 1, "dropout_rate": 0.25,
                      "synchronized_bn": False}
    config["dtype"] = dtype
    path = tmp_path / "g.keras"
    gen.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, UNetGenerator)
    assert loaded.get_config() == config
    x = np.random.default_rng(1).uniform(-1, 1, (2, 64, 64, 2)).astype("float32")
    np.testing.assert_array_equal(gen.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_mixed_precision_policy_survives_saving(tmp_path):
    gen = build_generator(64, base_filters=4, max_filters=8, dtype="mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"
    assert gen.get_layer("enc2_conv").compute_dtype == "bfloat16"
    assert gen.get_layer("enc2_conv").kernel.dtype == "float32"
    assert gen.get_layer("out_tanh").compute_dtype == "float32"
    gen.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras")
    assert loaded.get_layer("dec1_convt").compute_dtype == "bfloat16"
    assert loaded.dtype_policy.name == "mixed_bfloat16"


def test_deep_variant_at_1024_has_the_documented_parameter_count():
    """docs/training.md's table: the authors' deep U-Net (down to 1x1) at 1024 px."""
    gen = build_generator(1024, bottleneck_size=1)
    assert gen.count_params() == 79_591_680
