"""Adam whose TensorFlow update is one fused kernel per variable.

Keras 3's :class:`keras.optimizers.Adam` on the TensorFlow backend updates
each variable with about ten element-wise operations (cast, subtract,
multiply, square, sqrt, divide and three variable assignments), each a full
pass over memory.  For the pix2pix generator (54 M parameters at 1024 px)
that update alone took about a quarter of a CPU training step.
:class:`FusedAdam` computes the same formula with TensorFlow's
``ResourceApplyAdam`` kernel, which reads and writes each variable and its
two moments once, and has a kernel on CPU, GPU and under XLA.

The formula is Keras's (and the Adam paper's "efficient" form)::

    alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    m += (g - m) * (1 - beta_1)
    v += (g**2 - v) * (1 - beta_2)
    var -= alpha * m / (sqrt(v) + epsilon)

with ``t = iterations + 1``.  Where the fused kernel does not apply (other
backends, ``amsgrad=True``, sparse gradients, or a device whose table
turns it off: :func:`solar_euv.device.fast_paths`, ``SOLAR_EUV_FAST_PATHS=0``)
the update falls back to Keras's own code, so results are the same
everywhere.
"""
import keras

from solar_euv.device import fast_paths

__all__ = ["FusedAdam"]


def _resource(variable):
    """The resource handle of a Keras or TensorFlow variable (per-device in an update)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle


@keras.saving.register_keras_serializable(package="solar_euv")
class FusedAdam(keras.optimizers.Adam):
    """:class:`keras.optimizers.Adam` with a single fused update kernel on TensorFlow.

    Same arguments, same variables (``iterations``, one momentum and one
    velocity per trainable variable), same configuration and checkpoints
    as :class:`keras.optimizers.Adam`, and the same update formula: only the
    way the TensorFlow backend executes it differs.  It works inside
    :class:`keras.optimizers.LossScaleOptimizer`, under
    ``tf.distribute`` strategies and under ``jit_compile``.

    Parameters
    ----------
    learning_rate, beta_1, beta_2, epsilon, amsgrad, **kwargs
        As :class:`keras.optimizers.Adam`; ``amsgrad=True`` uses Keras's
        unfused update.

    Examples
    --------
    >>> from solar_euv.models.fused_adam import FusedAdam
    >>> opt = FusedAdam(2e-4, beta_1=0.5, beta_2=0.999)
    >>> opt.get_config()["beta_1"]
    0.5
    """

    def update_step(self, gradient, variable, learning_rate):
        """Update ``variable`` (and its moments) from ``gradient``."""
        if (keras.backend.backend() != "tensorflow" or self.amsgrad
                or not fast_paths().fused_adam):
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf

        if isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]
        # Scalars computed exactly as keras.optimizers.Adam.update_step does.
        local_step = tf.cast(self.iterations + 1, dtype)
        beta_1_power = tf.pow(tf.cast(self.beta_1, dtype), local_step)
        beta_2_power = tf.pow(tf.cast(self.beta_2, dtype), local_step)
        tf.raw_ops.ResourceApplyAdam(
            var=_resource(variable), m=_resource(m), v=_resource(v),
            beta1_power=beta_1_power, beta2_power=beta_2_power,
            lr=tf.cast(learning_rate, dtype), beta1=tf.cast(self.beta_1, dtype),
            beta2=tf.cast(self.beta_2, dtype), epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype), use_locking=False, use_nesterov=False)
