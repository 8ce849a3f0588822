"""BatchNormalization whose TensorFlow training pass is one fused kernel.

In training mode Keras 3's :class:`keras.layers.BatchNormalization` on the
TensorFlow backend computes the batch moments and the normalisation with
separate element-wise ops (and, with ``synchronized=True``, a sum of a
tensor of ones for the element count and two all-reduces even on one
device); their gradient is a similar chain.  :class:`FusedBatchNormalization`
computes the same thing with TensorFlow's ``FusedBatchNormV3`` kernel (and
its fused gradient), which exists on CPU (oneDNN), GPU (cuDNN) and under XLA.

It is used wherever it computes exactly what Keras computes (TensorFlow
backend, training mode, a 4-D channels-last input, no mask, no
renormalisation, one replica or ``synchronized=False``) and the device
table says it is faster (:func:`solar_euv.device.fast_paths`; off with
``SOLAR_EUV_FAST_PATHS=0``).  Everywhere else
(inference, other backends, batch statistics synchronised over several
replicas) the layer runs Keras's own code.
"""
import keras

from solar_euv.device import fast_paths

__all__ = ["FusedBatchNormalization"]

_FUSED_DTYPES = ("float32", "bfloat16", "float16")


@keras.saving.register_keras_serializable(package="solar_euv")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """:class:`keras.layers.BatchNormalization` with a fused TensorFlow training kernel.

    Same arguments, weights, configuration and results as
    :class:`keras.layers.BatchNormalization`: the normalised output uses the
    biased batch variance, and the moving statistics are updated with the
    biased variance as Keras does (``FusedBatchNormV3`` returns the unbiased
    one; the layer undoes the ``n / (n - 1)`` factor).

    Parameters
    ----------
    **kwargs
        As :class:`keras.layers.BatchNormalization`.

    Examples
    --------
    >>> import numpy as np
    >>> from solar_euv.models.fused_batch_normalization import FusedBatchNormalization
    >>> layer = FusedBatchNormalization(momentum=0.9, epsilon=1.01e-5)
    >>> layer(np.ones((1, 4, 4, 2), "float32"), training=True).shape
    (1, 4, 4, 2)
    """

    def _fusable(self, inputs, training, mask):
        if keras.backend.backend() != "tensorflow" or not fast_paths().fused_batch_norm:
            return False
        if not (training and self.trainable) or mask is not None or self.renorm:
            return False
        if len(inputs.shape) != 4 or self.axis not in (-1, 3):
            return False
        if keras.backend.standardize_dtype(inputs.dtype) not in _FUSED_DTYPES:
            return False
        if self.synchronized:
            import tensorflow as tf

            context = tf.distribute.get_replica_context()
            if context is not None and context.num_replicas_in_sync > 1:
                return False
        return True

    def call(self, inputs, training=None, mask=None):
        """Normalise ``inputs``; fused on TensorFlow in training mode (see the class)."""
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        channels = inputs.shape[-1]
        gamma = (tf.cast(self.gamma, "float32") if self.scale
                 else tf.ones((channels,), "float32"))
        beta = (tf.cast(self.beta, "float32") if self.center
                else tf.zeros((channels,), "float32"))
        empty = tf.constant([], "float32")
        outputs, mean, unbiased_variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
            x=inputs, scale=gamma, offset=beta, mean=empty, variance=empty,
            epsilon=self.epsilon, exponential_avg_factor=1.0, data_format="NHWC",
            is_training=True)
        count = tf.reduce_prod(tf.cast(tf.shape(inputs)[:3], "float32"))
        # The kernel's variance carries Bessel's correction; Keras's does not.
        variance = unbiased_variance * tf.maximum(count - 1.0, 1.0) / count
        self.moving_mean.assign(
            tf.cast(self.moving_mean, "float32") * self.momentum
            + mean * (1.0 - self.momentum))
        self.moving_variance.assign(
            tf.cast(self.moving_variance, "float32") * self.momentum
            + variance * (1.0 - self.momentum))
        return tf.cast(outputs, self.compute_dtype)
