"""Pix2Pix: the conditional GAN of Park et al. (2019), Models A and B."""
import keras
import tensorflow as tf
from keras import ops

from solar_euv.models.fused_adam import FusedAdam
from solar_euv.models.patch_discriminator import PatchDiscriminator
from solar_euv.models.unet_generator import UNetGenerator
from solar_euv.scaling import disk_mask

__all__ = ["Pix2Pix", "build_pix2pix", "paper_optimizers"]


def paper_optimizers(learning_rate=2e-4, beta_1=0.5, beta_2=0.999, d_learning_rate=None):
    """The paper's optimizers: Adam(2e-4, beta1 0.5, beta2 0.999) for G and for D.

    Both are :class:`~solar_euv.models.fused_adam.FusedAdam`: Keras's Adam
    (a subclass of :class:`keras.optimizers.Adam`, same formula, variables and
    configuration) whose TensorFlow update runs one fused kernel per variable.

    Parameters
    ----------
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule
        The generator's rate (and the discriminator's unless given).
    beta_1, beta_2 : float
    d_learning_rate : float or schedule, optional
        The discriminator's own rate (``train --d-lr``); default ``learning_rate``.

    Returns
    -------
    (FusedAdam, FusedAdam)
        Generator optimizer, discriminator optimizer (two separate objects).
    """
    def make(name, rate):
        return FusedAdam(learning_rate=rate, beta_1=beta_1, beta_2=beta_2, name=name)

    d_rate = learning_rate if d_learning_rate is None else d_learning_rate
    return make("g_adam", learning_rate), make("d_adam", d_rate)


def _bce_with_logits(target, logits):
    """Mean sigmoid cross-entropy from logits (stable: no log(0) possible)."""
    return ops.mean(ops.binary_crossentropy(target, logits, from_logits=True))


def _needs_loss_scale():
    return keras.config.dtype_policy().name == "mixed_float16"


def _with_loss_scale(optimizer):
    if (_needs_loss_scale()
            and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


@keras.saving.register_keras_serializable(package="solar_euv")
class Pix2Pix(keras.Model):
    """Generator + (optional) discriminator trained with L1 and cGAN losses.

    Calling the model (``model(x)``, ``model.predict(x)``) runs the generator.
    ``fit`` takes batches ``(magnetogram, image)`` in network units.

    Model A (``compile(gan_weight=0)`` and no discriminator) minimises
    ``l1_weight * mean|y - G(x)|``.  Model B adds the cGAN loss:

    * G: ``gan_weight * BCE(D(x, G(x)), 1) + l1_weight * mean|y - G(x)|``
    * D: ``(BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)) / 2``

    one G and one D update per step from a single forward pass of G.  Under a
    ``tf.distribute`` strategy each replica's mean loss is divided by the
    number of replicas exactly once before the gradients are summed, so the
    update equals the single-device update on the same global batch; under
    ``mixed_float16`` both optimizers are wrapped in a LossScaleOptimizer.

    Parameters
    ----------
    generator : keras.Model
        Maps ``(batch, N, N, in)`` to ``(batch, N, N, out)`` in [-1, 1].
    discriminator : keras.Model or None
        Takes ``[magnetogram, image]`` and returns patch logits; ``None``
        for Model A (no discriminator weights exist at all).
    """

    def __init__(self, generator, discriminator=None, **kwargs):
        kwargs.setdefault("name", "pix2pix")
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.l1_weight = 100.0
        self.disk_radius = None
        self.gan_weight = 1.0 if discriminator is not None else 0.0
        self.d_optimizer = None
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.l1_tracker = keras.metrics.Mean(name="l1")
        self.gan_tracker = keras.metrics.Mean(name="g_gan")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.built = True

    # -- configuration ----------------------------------------------------
    @property
    def adversarial(self):
        """True for Model B: a discriminator is present and ``gan_weight > 0``."""
        return self.discriminator is not None and self.gan_weight > 0

    @property
    def g_optimizer(self):
        return self.optimizer

    def compile(self, g_optimizer=None, d_optimizer=None, l1_weight=100.0, gan_weight=1.0,
                disk_radius=None, **kwargs):
        """Configure training.

        Parameters
        ----------
        g_optimizer, d_optimizer : keras.optimizers.Optimizer, optional
            Default: :func:`paper_optimizers`.  ``d_optimizer`` is unused (and
            not built) for Model A.
        l1_weight : float
            lambda of the paper (100).
        gan_weight : float
            Weight of the generator's adversarial loss; 0 gives Model A.
        disk_radius : float, optional
            Train on the disk only: beyond ``disk_radius * R`` of the common
            grid the generated image is replaced by the target before the L1
            and the discriminator, so the off-disk pixels (masked to -1 in
            the targets, to 0 DN/s by generation) cost nothing and the
            network need not draw the step from the limb to -1.  None (the
            paper): every pixel counts.
        **kwargs
            Passed to :meth:`keras.Model.compile` (``jit_compile``,
            ``steps_per_execution``, ``run_eagerly``).
        """
        if gan_weight > 0 and self.discriminator is None:
            raise ValueError("`gan_weight` > 0 (Model B) needs a discriminator; this "
                             f"Pix2Pix has none. Received: gan_weight={gan_weight!r}")
        if g_optimizer is None or (d_optimizer is None and gan_weight > 0):
            default_g, default_d = paper_optimizers()
            g_optimizer = g_optimizer or default_g
            d_optimizer = d_optimizer or default_d
        self.l1_weight = float(l1_weight)
        self.gan_weight = float(gan_weight)
        self.disk_radius = None if disk_radius is None else float(disk_radius)
        super().compile(optimizer=_with_loss_scale(g_optimizer), **kwargs)
        # Build each optimizer on its own variables now: fit would otherwise
        # build G's optimizer on G+D, and an optimizer built lazily inside a
        # distributed step fails under MirroredStrategy.
        self.optimizer.build(self.generator.trainable_variables)
        if self.adversarial:
            self.d_optimizer = _with_loss_scale(d_optimizer)
            self.d_optimizer.build(self.discriminator.trainable_variables)
        else:
            self.d_optimizer = None

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            "g_optimizer": keras.saving.serialize_keras_object(self.optimizer),
            "d_optimizer": (keras.saving.serialize_keras_object(self.d_optimizer)
                            if self.d_optimizer is not None else None),
            "l1_weight": self.l1_weight,
            "gan_weight": self.gan_weight,
            "disk_radius": self.disk_radius,
            "jit_compile": self._jit_compile,
            "steps_per_execution": self.steps_per_execution,
        }

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("g_optimizer", "d_optimizer"):
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    def get_config(self):
        config = super().get_config()
        config.update({
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": (keras.saving.serialize_keras_object(self.discriminator)
                              if self.discriminator is not None else None),
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        if config.get("discriminator") is not None:
            config["discriminator"] = keras.saving.deserialize_keras_object(
                config["discriminator"])
        return cls(**config)

    # -- running ------------------------------------------------------------
    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    @property
    def metrics(self):
        trackers = [self.g_loss_tracker, self.l1_tracker]
        if self.adversarial:
            trackers += [self.gan_tracker, self.d_loss_tracker]
        return trackers

    def _pair_losses(self, x, y, fake, training):
        """Per-replica mean losses from one forward pass of the generator."""
        y = ops.cast(y, "float32")
        if self.disk_radius is not None:
            size = int(fake.shape[1])
            inside = disk_mask(size, self.disk_radius).reshape(1, size, size, 1)
            fake = ops.where(inside, fake, ops.cast(y, fake.dtype))
        l1 = ops.mean(ops.abs(y - ops.cast(fake, "float32")))
        losses = {"l1": l1, "g_loss": self.l1_weight * l1}
        if self.adversarial:
            fake_logits = self.discriminator([x, fake], training=training)
            real_logits = self.discriminator([x, y], training=training)
            g_gan = _bce_with_logits(ops.ones_like(fake_logits), fake_logits)
            losses["g_gan"] = g_gan
            losses["g_loss"] = losses["g_loss"] + self.gan_weight * g_gan
            losses["d_loss"] = 0.5 * (
                _bce_with_logits(ops.ones_like(real_logits), real_logits)
                + _bce_with_logits(ops.zeros_like(fake_logits), fake_logits))
        return losses

    def _track(self, losses):
        self.g_loss_tracker.update_state(losses["g_loss"])
        self.l1_tracker.update_state(losses["l1"])
        if self.adversarial:
            self.gan_tracker.update_state(losses["g_gan"])
            self.d_loss_tracker.update_state(losses["d_loss"])
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        # Gradients are summed over replicas: divide each replica's mean once.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables if self.adversarial else []
        # Each tape watches only its own network: D's gradient does not
        # backpropagate through G, and G's does not visit D's real pass.
        with tf.GradientTape(watch_accessed_variables=False) as g_tape, \
                tf.GradientTape(watch_accessed_variables=False) as d_tape:
            g_tape.watch([v.value for v in g_vars])
            d_tape.watch([v.value for v in d_vars])
            fake = self.generator(x, training=True)
            losses = self._pair_losses(x, y, fake, training=True)
            g_scaled = self.optimizer.scale_loss(losses["g_loss"] / replicas)
            if self.adversarial:
                d_scaled = self.d_optimizer.scale_loss(losses["d_loss"] / replicas)
        self.optimizer.apply(g_tape.gradient(g_scaled, g_vars), g_vars)
        if self.adversarial:
            self.d_optimizer.apply(d_tape.gradient(d_scaled, d_vars), d_vars)
        return self._track(losses)

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        fake = self.generator(x, training=False)
        return self._track(self._pair_losses(x, y, fake, training=False))


def build_pix2pix(image_size=1024, model="B", in_channels=1, out_channels=1, disc_layers=3,
                  base_filters=64, max_filters=512, bottleneck_size=4, dropout_rate=0.5,
                  synchronized_bn=True):
    """Build an uncompiled :class:`Pix2Pix` for Model ``"A"`` (L1) or ``"B"`` (L1 + cGAN).

    Model A has no discriminator at all.
    """
    model = str(model).upper()
    if model not in ("A", "B"):
        raise ValueError(f"`model` must be 'A' (L1 only) or 'B' (L1 + cGAN). "
                         f"Received: model={model!r}")
    generator = UNetGenerator(
        image_size=image_size, in_channels=in_channels, out_channels=out_channels,
        base_filters=base_filters, max_filters=max_filters,
        bottleneck_size=bottleneck_size, dropout_rate=dropout_rate,
        synchronized_bn=synchronized_bn)
    discriminator = None
    if model == "B":
        discriminator = PatchDiscriminator(
            image_size=image_size, in_channels=in_channels, out_channels=out_channels,
            n_layers=disc_layers, base_filters=base_filters, max_filters=max_filters,
            synchronized_bn=synchronized_bn)
    return Pix2Pix(generator, discriminator)
