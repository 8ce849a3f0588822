"""Convolution with few output channels computed as one matrix product.

The PatchGAN's last convolution maps 512 channels to one logit per patch
(kernel 4, stride 1).  With a single output channel the TensorFlow CPU
kernel runs at a few GFLOP/s; computed as one matrix product of every input
pixel with every kernel tap followed by a sum of the ``kh * kw`` shifted tap
planes it is several times faster.  ``python benchmarks/layer_speed.py
--what logits`` measures both; README "Speed" has the figures.
"""
import keras

__all__ = ["MatmulConv2D", "MATMUL_MAX_FILTERS"]

#: Convolutions with at most this many output channels use the matrix product.
MATMUL_MAX_FILTERS = 4


def _shift_sum_kernel(kh, kw, filters, dtype):
    """One-hot ``(kh, kw, kh * kw * filters, filters)`` kernel: picks tap (a, b) at (a, b)."""
    import numpy as np
    import tensorflow as tf

    kernel = np.zeros((kh, kw, kh * kw * filters, filters), "float32")
    for a in range(kh):
        for b in range(kw):
            for c in range(filters):
                kernel[a, b, (a * kw + b) * filters + c, c] = 1.0
    return tf.constant(kernel, dtype=dtype)


@keras.saving.register_keras_serializable(package="solar_euv")
class MatmulConv2D(keras.layers.Conv2D):
    """:class:`keras.layers.Conv2D` with a matrix-product path for few output channels.

    Same arguments, kernel, configuration and results as
    :class:`keras.layers.Conv2D`.  On the TensorFlow backend, for stride 1,
    ``"valid"`` padding, channels-last data, no dilation, one group and at
    most :data:`MATMUL_MAX_FILTERS` filters, the output is computed as::

        Z[n, i, j, a, b, :] = x[n, i, j, :] @ kernel[a, b, :, :]
        y[n, i, j, :] = sum over (a, b) of Z[n, i + a, j + b, a, b, :]

    (one matrix product; the shifted sum is a convolution of ``Z`` with a
    constant one-hot kernel, ``in_channels / (kh * kw * filters)`` times fewer
    multiply-adds than the layer's own convolution: 32x for 512 channels,
    kernel 4 and one filter; skipped for a 1x1 kernel); the gradients
    follow from those ops.  Everything else runs Keras's own code.

    Parameters
    ----------
    *args, **kwargs
        As :class:`keras.layers.Conv2D`.
    """

    def _matmul_path(self, inputs):
        if keras.backend.backend() != "tensorflow":
            return False
        if (tuple(self.strides) != (1, 1) or self.padding != "valid"
                or self.data_format != "channels_last" or tuple(self.dilation_rate) != (1, 1)
                or self.groups != 1 or self.filters > MATMUL_MAX_FILTERS):
            return False
        shape = inputs.shape
        return len(shape) == 4 and shape[1] is not None and shape[2] is not None

    def call(self, inputs):
        """Convolution of ``inputs`` (see the class for the path taken)."""
        if not self._matmul_path(inputs):
            return super().call(inputs)
        import tensorflow as tf

        _, height, width, channels_in = inputs.shape
        kh, kw = self.kernel_size
        kernel = tf.cast(self.kernel, inputs.dtype)  # (kh, kw, in, out)
        taps = tf.reshape(tf.transpose(kernel, (2, 0, 1, 3)),
                          (channels_in, kh * kw * self.filters))
        planes = tf.matmul(tf.reshape(inputs, (-1, channels_in)), taps)
        planes = tf.reshape(planes, (-1, height, width, kh * kw * self.filters))
        if kh == kw == 1:
            outputs = planes
        else:
            # The shifted sum of the tap planes is a convolution with a constant
            # one-hot kernel (kh * kw * filters -> filters channels): one op and
            # one gradient op instead of kh * kw slices.
            outputs = tf.nn.conv2d(planes,
                                   _shift_sum_kernel(kh, kw, self.filters, planes.dtype),
                                   strides=1, padding="VALID")
        if self.use_bias:
            outputs = outputs + tf.cast(self.bias, outputs.dtype)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs
