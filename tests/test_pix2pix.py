"""Pix2Pix: Models A and B, losses, distribution, precision, saving."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from solar_euv.models import Pix2Pix, build_pix2pix, paper_optimizers

SIZE = 64


def _pair(seed=0, batch=1, channels=1):
    """A magnetogram-like input and a target that depends on it nonlinearly."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    x = np.stack([np.sin(6 * xx + k) * np.cos(5 * yy - k) + 0.2 * rng.normal(size=xx.shape)
                  for k in range(batch)])[..., None]
    y = np.tanh(2 * np.abs(x)) * 1.6 - 0.8
    y = np.repeat(y, channels, axis=-1)
    return x.astype("float32"), y.astype("float32")


def _small(model="B", **kwargs):
    kwargs.setdefault("base_filters", 8)
    kwargs.setdefault("max_filters", 32)
    return build_pix2pix(SIZE, model=model, **kwargs)


def test_paper_optimizers():
    g, d = paper_optimizers()
    assert g is not d
    for opt in (g, d):
        assert isinstance(opt, keras.optimizers.Adam)
        assert float(opt.learning_rate) == pytest.approx(2e-4)
        assert opt.beta_1 == 0.5 and opt.beta_2 == 0.999


@pytest.mark.parametrize("model_name,gan_weight", [("A", 0.0), ("B", 1.0)])
def test_tiny_model_overfits_one_pair(model_name, gan_weight):
    keras.utils.set_random_seed(1)
    x, y = _pair()
    # Dropout off: overfitting one pair is a deterministic fit (with dropout
    # 0.5 on every decoder block of a 64 px U-Net the noise floor is ~0.2).
    model = _small(model_name, base_filters=16, max_filters=64, dropout_rate=0.0)
    model.compile(*paper_optimizers(learning_rate=2e-3), gan_weight=gan_weight)
    before = model.evaluate(x, y, verbose=0, return_dict=True)["l1"]
    ds = tf.data.Dataset.from_tensors((x, y)).repeat(300)
    history = model.fit(ds, epochs=1, verbose=0, shuffle=False)
    after = model.evaluate(x, y, verbose=0, return_dict=True)["l1"]
    assert after * 10 <= before, (before, after)
    expected = {"g_loss", "l1"} | ({"g_gan", "d_loss"} if model_name == "B" else set())
    assert set(history.history) == expected
    assert np.isfinite(history.history["g_loss"]).all()


def test_model_a_has_no_discriminator_weights():
    keras.utils.set_random_seed(2)
    x, y = _pair(batch=2)
    model = _small("A")
    model.compile(gan_weight=0)
    assert model.discriminator is None and model.d_optimizer is None
    gen_ids = {id(v) for v in model.generator.weights}
    assert {id(v) for v in model.weights} == gen_ids
    before = [w.numpy().copy() for w in model.generator.trainable_weights]
    model.fit(x, y, epochs=2, batch_size=2, verbose=0)
    after = [w.numpy() for w in model.generator.trainable_weights]
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    # Adam slots exist for the generator's variables only.
    n_gen = len(model.generator.trainable_variables)
    slots = [v for v in model.optimizer.variables if "momentum" in v.path
             or "velocity" in v.path]
    assert len(slots) == 2 * n_gen
    assert [m.name for m in model.metrics] == ["g_loss", "l1"]


def test_model_b_steps_both_networks_from_one_forward_pass():
    keras.utils.set_random_seed(3)
    x, y = _pair(batch=2)
    model = _small("B")
    model.compile()
    d_before = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    g_before = [w.numpy().copy() for w in model.generator.trainable_weights]
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 1
    assert int(model.d_optimizer.iterations) == 1
    assert all(not np.array_equal(a, b.numpy())
               for a, b in zip(d_before, model.discriminator.trainable_weights))
    assert all(not np.array_equal(a, b.numpy())
               for a, b in zip(g_before, model.generator.trainable_weights))


def test_losses_match_the_formulas():
    keras.utils.set_random_seed(4)
    x, y = _pair(batch=2)
    model = _small("B", dropout_rate=0.0)
    model.compile(l1_weight=7.0, gan_weight=0.5)
    result = model.evaluate(x, y, batch_size=2, verbose=0, return_dict=True)
    fake = model.generator(x, training=False).numpy()
    l1 = np.mean(np.abs(y - fake))

    def bce(target, logits):
        # Stable form of -[t log s(z) + (1 - t) log(1 - s(z))].
        return np.mean(np.maximum(logits, 0) - logits * target
                       + np.log1p(np.exp(-np.abs(logits))))

    real = model.discriminator([x, y], training=False).numpy().astype("float64")
    fk = model.discriminator([x, fake], training=False).numpy().astype("float64")
    assert result["l1"] == pytest.approx(l1, rel=1e-5)
    assert result["g_gan"] == pytest.approx(bce(1.0, fk), rel=1e-5)
    assert result["g_loss"] == pytest.approx(7.0 * l1 + 0.5 * bce(1.0, fk), rel=1e-5)
    assert result["d_loss"] == pytest.approx(0.5 * (bce(1.0, real) + bce(0.0, fk)), rel=1e-5)


def test_bce_is_finite_for_saturated_logits():
    from solar_euv.models.pix2pix import _bce_with_logits

    logits = tf.constant([[-1e4, 1e4, 0.0]])
    assert np.isfinite(_bce_with_logits(tf.ones_like(logits), logits).numpy())
    assert _bce_with_logits(tf.zeros_like(logits), logits).numpy() == pytest.approx(
        (0 + 1e4 + np.log(2)) / 3, rel=1e-6)


def test_model_b_needs_a_discriminator():
    model = _small("A")
    with pytest.raises(ValueError, match="gan_weight=1"):
        model.compile(gan_weight=1)


def _train_copy(strategy, weights, x, y, model_name, steps):
    with strategy.scope():
        model = _small(model_name, dropout_rate=0.0)
        model.set_weights(weights)
        # Plain SGD: Adam divides by the gradient's own scale and would hide a
        # loss that is wrongly scaled by the number of replicas.
        model.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05),
                      gan_weight=0.0 if model_name == "A" else 1.0)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4).repeat(steps)
    history = model.fit(ds, epochs=1, verbose=0)
    return model, history.history


@pytest.mark.parametrize("model_name", ["A", "B"])
def test_two_replicas_make_the_same_update_as_one_device(model_name, mirrored_strategy):
    keras.utils.set_random_seed(5)
    x, y = _pair(batch=4)
    weights = _small(model_name, dropout_rate=0.0).get_weights()
    one, h1 = _train_copy(tf.distribute.get_strategy(), weights, x, y, model_name, 3)
    two, h2 = _train_copy(mirrored_strategy, weights, x, y,
                          model_name, 3)
    moved = 0.0
    for w0, a, b in zip(weights, one.get_weights(), two.get_weights()):
        # Summation order differs between one batch of 4 and two of 2, and
        # the L1 gradient (a sign) turns rounding into whole flipped pixels:
        # the two updates agree to within 1 % of how far each weight moved
        # (about 0.1 % measured); a loss scaled by the number of replicas
        # would differ by about half of it.
        step = np.abs(a - w0).max()
        assert np.abs(a - b).max() <= 1e-2 * step + 1e-6
        moved = max(moved, step)
    assert moved > 1e-3  # the steps did change the weights
    for key in h1:
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-4)


def test_disk_loss_ignores_the_generator_off_the_disk():
    from solar_euv.scaling import disk_mask

    keras.utils.set_random_seed(5)
    x, y = _pair(batch=2)
    inside = disk_mask(SIZE, 1.0)[None, :, :, None]
    y = np.where(inside, y, -1.0).astype("float32")
    model = _small("B", dropout_rate=0.0)
    model.compile(l1_weight=7.0, gan_weight=0.5, disk_radius=1.0)
    fake = model.generator(x, training=False).numpy()
    on_disk = np.where(inside, fake, y)
    x, y = keras.ops.convert_to_tensor(x.astype("float32")), keras.ops.convert_to_tensor(y)
    losses = model._pair_losses(x, y, keras.ops.convert_to_tensor(fake), training=False)
    # The L1 counts the disk alone (off the disk the target stands in for
    # the output), and the discriminator judges that same image.
    assert float(losses["l1"]) == pytest.approx(np.mean(np.abs(np.asarray(y) - on_disk)),
                                                rel=1e-5)
    other = keras.ops.convert_to_tensor(np.where(inside, fake, 0.7).astype("float32"))
    again = model._pair_losses(x, y, other, training=False)
    for key in ("l1", "g_gan", "d_loss"):
        assert float(again[key]) == pytest.approx(float(losses[key]), rel=1e-6)
    # Without it (the paper) the off-disk pixels count.
    model.compile(l1_weight=7.0, gan_weight=0.5)
    assert float(model._pair_losses(x, y, other, training=False)["l1"]) > float(losses["l1"])


def test_save_load_round_trip_and_continue_training(tmp_path):
    keras.utils.set_random_seed(6)
    x, y = _pair(batch=2, channels=2)
    model = build_pix2pix(SIZE, model="B", out_channels=2, disc_layers=2, base_filters=4,
                          max_filters=16, bottleneck_size=1, dropout_rate=0.0,
                          synchronized_bn=False)
    model.compile(keras.optimizers.Adam(3e-4, beta_1=0.4),
                  keras.optimizers.Adam(1e-4, beta_1=0.6), l1_weight=50.0, gan_weight=0.5,
                  disk_radius=0.9)
    model.fit(x, y, batch_size=2, epochs=2, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)

    assert isinstance(loaded, Pix2Pix)
    assert loaded.generator.get_config() == model.generator.get_config()
    assert loaded.discriminator.get_config()["n_layers"] == 2
    assert (loaded.l1_weight, loaded.gan_weight, loaded.disk_radius) == (50.0, 0.5, 0.9)
    assert float(loaded.optimizer.learning_rate) == pytest.approx(3e-4)
    assert float(loaded.d_optimizer.beta_1) == pytest.approx(0.6)
    assert int(loaded.optimizer.iterations) == 2 == int(loaded.d_optimizer.iterations)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))

    # Both continue identically: the optimizers' moments were restored.
    model.fit(x, y, batch_size=2, epochs=2, verbose=0)
    loaded.fit(x, y, batch_size=2, epochs=2, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_model_a_round_trip(tmp_path):
    keras.utils.set_random_seed(7)
    x, y = _pair(batch=2)
    model = _small("A")
    model.compile(gan_weight=0)
    model.fit(x, y, batch_size=2, verbose=0)
    model.save(tmp_path / "a.keras")
    loaded = keras.models.load_model(tmp_path / "a.keras")
    assert loaded.discriminator is None and loaded.d_optimizer is None
    assert loaded.gan_weight == 0.0
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    loaded.fit(x, y, batch_size=2, verbose=0)
    assert int(loaded.optimizer.iterations) == 2


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_steps_are_finite(policy):
    keras.utils.set_random_seed(8)
    x, y = _pair(batch=2)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        model = _small("B")
        model.compile()
        assert model.generator.get_layer("enc2_conv").compute_dtype == policy.split("_")[1]
        assert model.generator.output.dtype == "float32"
        scaled = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert scaled == isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
        assert scaled == (policy == "mixed_float16")
        history = model.fit(x, y, batch_size=2, epochs=3, verbose=0).history
    finally:
        keras.config.set_dtype_policy(previous)
    for values in history.values():
        assert np.isfinite(values).all()
    assert model.generator.get_layer("enc2_conv").kernel.dtype == "float32"
