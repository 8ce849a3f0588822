"""FusedAdam: the same updates as keras.optimizers.Adam, everywhere Adam is used."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from solar_euv.models import build_pix2pix, paper_optimizers
from solar_euv.models.fused_adam import FusedAdam

SHAPES = [(3, 3, 2, 4), (7,), (5, 6)]


def _problem(seed=0, steps=6):
    rng = np.random.default_rng(seed)
    init = [rng.normal(size=s).astype("float32") for s in SHAPES]
    grads = [[rng.normal(size=s).astype("float32") * 10.0 ** (-k % 3) for s in SHAPES]
             for k in range(steps)]
    return init, grads


def _train(optimizer, init, grads, compiled):
    variables = [keras.Variable(v) for v in init]
    optimizer.build(variables)

    def step(g):
        optimizer.apply(g, variables)

    if compiled:
        step = tf.function(step, jit_compile=compiled == "xla")
    for g in grads:
        step([tf.constant(x) for x in g])
    return [v.numpy() for v in variables], [v.numpy() for v in optimizer.variables]


@pytest.mark.parametrize("compiled", [False, "graph", "xla"])
@pytest.mark.parametrize("kwargs", [{}, {"learning_rate": 2e-3, "beta_1": 0.5},
                                    {"learning_rate": 1e-2, "beta_1": 0.8, "beta_2": 0.9,
                                     "epsilon": 1e-4}])
def test_same_updates_as_keras_adam(kwargs, compiled):
    init, grads = _problem()
    ref_w, ref_slots = _train(keras.optimizers.Adam(**kwargs), init, grads, compiled)
    new_w, new_slots = _train(FusedAdam(**kwargs), init, grads, compiled)
    # iterations, learning rate, then one momentum and one velocity per variable
    assert len(ref_slots) == len(new_slots) == 2 + 2 * len(SHAPES)
    for a, b, w0 in zip(ref_w, new_w, init):
        assert not np.allclose(a, w0)  # the steps moved the weights
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
    # The fused kernel forms (1 - beta_2) in float32, Keras in float64 then
    # rounds: 1 - 0.999 differs by 1.3e-5 relative (as in tf.keras 2's Adam,
    # which used the same kernel).  The velocities carry that difference;
    # the weights agree to float32 rounding (above).
    for a, b in zip(ref_slots, new_slots):
        np.testing.assert_allclose(b, a, rtol=3e-5, atol=1e-6 * np.abs(a).max())


def test_amsgrad_falls_back_to_keras():
    init, grads = _problem(1)
    ref_w, _ = _train(keras.optimizers.Adam(amsgrad=True), init, grads, "graph")
    new_w, _ = _train(FusedAdam(amsgrad=True), init, grads, "graph")
    for a, b in zip(ref_w, new_w):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_inside_loss_scale_optimizer_skips_non_finite_steps():
    init, grads = _problem(2, steps=3)
    grads[1][0][0, 0, 0, 0] = np.inf
    ref = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-3))
    new = keras.optimizers.LossScaleOptimizer(FusedAdam(1e-3))
    ref_w, _ = _train(ref, init, grads, "graph")
    new_w, _ = _train(new, init, grads, "graph")
    assert int(new.inner_optimizer.iterations) == 2  # the inf step was skipped
    for a, b in zip(ref_w, new_w):
        assert np.isfinite(b).all()
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_config_round_trip_and_registration():
    opt = FusedAdam(3e-4, beta_1=0.4, beta_2=0.99, epsilon=1e-6, name="g_adam")
    config = keras.saving.serialize_keras_object(opt)
    assert config["registered_name"] == "solar_euv>FusedAdam"
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is FusedAdam
    assert restored.get_config() == opt.get_config()


def test_paper_optimizers_are_fused():
    g, d = paper_optimizers()
    assert type(g) is FusedAdam and type(d) is FusedAdam
    assert (g.name, d.name) == ("g_adam", "d_adam")


def test_pix2pix_with_fused_adam_matches_keras_adam():
    """A whole training step of Model B: same weights with either optimizer."""
    keras.utils.set_random_seed(11)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 1)).astype("float32")
    y = np.tanh(2 * x).astype("float32")

    def model():
        return build_pix2pix(64, model="B", base_filters=4, max_filters=16, dropout_rate=0.0,
                             synchronized_bn=False)

    weights = model().get_weights()
    results = []
    for make in (lambda: keras.optimizers.Adam(2e-3, beta_1=0.5),
                 lambda: FusedAdam(2e-3, beta_1=0.5)):
        m = model()
        m.set_weights(weights)
        m.compile(make(), make())
        m.fit(x, y, batch_size=2, epochs=3, verbose=0, shuffle=False)
        results.append(m.get_weights())
    moved = max(np.abs(a - w).max() for a, w in zip(results[1], weights))
    assert moved > 1e-3
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_mirrored_strategy_matches_one_device(mirrored_strategy):
    init, grads = _problem(3, steps=4)
    ref_w, _ = _train(FusedAdam(1e-2), init, grads, "graph")
    with mirrored_strategy.scope():
        variables = [keras.Variable(v) for v in init]
        opt = FusedAdam(1e-2)
        opt.build(variables)

    @tf.function
    def step(g):
        def replica_fn(g):
            # Each replica contributes half: the summed gradient equals g.
            opt.apply([t / 2 for t in g], variables)
        mirrored_strategy.run(replica_fn, args=(g,))

    for g in grads:
        step([tf.constant(x) for x in g])
    for a, v in zip(ref_w, variables):
        for component in v.value.values:
            np.testing.assert_allclose(component.numpy(), a, rtol=1e-6, atol=1e-7)


def test_linear_decay_is_pix2pix_schedule_and_round_trips():
    from solar_euv.models import LinearDecay

    schedule = LinearDecay(1e-3, 100, decay_start=0.2)
    values = [float(schedule(s)) for s in (0, 20, 60, 100, 150)]
    np.testing.assert_allclose(values, [1e-3, 1e-3, 5e-4, 0.0, 0.0], atol=1e-9)
    again = LinearDecay.from_config(schedule.get_config())
    assert again.get_config() == {"learning_rate": 1e-3, "total_steps": 100,
                                  "decay_start": 0.2}
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(schedule))
    assert isinstance(restored, LinearDecay) and float(restored(60)) == pytest.approx(5e-4)
    # In the paper's optimizers, saved and loaded with the model.
    g_opt, _ = paper_optimizers(LinearDecay(2e-4, 10))
    assert float(g_opt.learning_rate) == pytest.approx(2e-4)
    for bad in ({"total_steps": 0}, {"total_steps": 10, "decay_start": 1.0}):
        with pytest.raises(ValueError):
            LinearDecay(1e-3, **bad)
