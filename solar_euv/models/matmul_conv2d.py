"""Convolutions with few channels computed around matrix products.

The PatchGAN's last convolution maps 512 channels to one logit per patch
(kernel 4, stride 1).  With a single output channel the TensorFlow CPU
kernel runs at a few GFLOP/s; computed as one matrix product of every input
pixel with every kernel tap followed by a sum of the ``kh * kw`` shifted tap
planes it is several times faster.

The PatchGAN's first convolution (kernel 4, stride 2) reads the two-channel
pair (magnetogram, image).  Its forward pass and kernel gradient are fast,
but the oneDNN kernel for its gradient with respect to the input (needed by
the generator's update) falls to a few GFLOP/s at some sizes (about 60 ms
for a 512 px pair on a 2-core CPU, 13x the time of the same work as a matrix
product).  For few input channels that gradient is computed as a matrix
product and an overlap-add instead.

``python benchmarks/layer_speed.py --what logits,pair`` measures both;
README "Speed" has the figures.
"""
import keras

from solar_euv.device import FAST_PATHS, MEASURED_KIND, fast_paths
from solar_euv.models.matmul_conv2d_transpose import conv_transpose_k4s2_full, finish_outputs

__all__ = ["MatmulConv2D", "MATMUL_MAX_FILTERS", "MATMUL_MAX_INPUT_CHANNELS"]

#: On the device kind they were measured on (AVX-512 CPUs with bfloat16),
#: stride-1 convolutions with at most this many output channels use the
#: matrix product.  Other kinds: :data:`solar_euv.device.FAST_PATHS`.
MATMUL_MAX_FILTERS = FAST_PATHS[MEASURED_KIND].conv_max_filters
#: Kernel-4, stride-2 convolutions with at most this many input channels take
#: their input gradient from a matrix product (from about 10 channels on the
#: oneDNN kernel is as fast or faster), on the measured kind.
MATMUL_MAX_INPUT_CHANNELS = FAST_PATHS[MEASURED_KIND].conv_max_input_channels


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
    """:class:`keras.layers.Conv2D` with matrix-product paths for few channels.

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
    follow from those ops.

    For kernel 4, stride 2, ``"valid"`` padding, channels-last data, no
    dilation, one group, an even ``height - 4`` and ``width - 4`` and at most
    :data:`MATMUL_MAX_INPUT_CHANNELS` input channels, the forward pass and
    the kernel gradient are TensorFlow's convolution ops, and the gradient
    with respect to the input is::

        Z[n, i, j, a, b, :] = dy[n, i, j, :] @ kernel[a, b, :, :].T
        dx[n, 2i + a, 2j + b, :] += Z[n, i, j, a, b, :]

    (:func:`~solar_euv.models.matmul_conv2d_transpose.conv_transpose_k4s2_full`).
    Everything else runs Keras's own code.  The thresholds are those of the
    detected device kind (:func:`solar_euv.device.fast_paths`, read when
    ``call`` is traced; on some kinds the paths are off); the values above
    are the measured kind's.

    Parameters
    ----------
    *args, **kwargs
        As :class:`keras.layers.Conv2D`.
    """

    def _common_path(self, inputs):
        if keras.backend.backend() != "tensorflow":
            return False
        if (self.data_format != "channels_last" or tuple(self.dilation_rate) != (1, 1)
                or self.groups != 1):
            return False
        shape = inputs.shape
        return len(shape) == 4 and all(s is not None for s in shape[1:])

    def _input_gradient_path(self, inputs):
        if not self._common_path(inputs):
            return False
        _, height, width, channels_in = inputs.shape
        return (tuple(self.kernel_size) == (4, 4) and tuple(self.strides) == (2, 2)
                and self.padding == "valid" and height >= 4 and width >= 4
                and (height - 4) % 2 == 0 and (width - 4) % 2 == 0
                and channels_in <= fast_paths().conv_max_input_channels)

    def _matmul_path(self, inputs):
        return (self._common_path(inputs) and tuple(self.strides) == (1, 1)
                and self.padding == "valid" and self.filters <= fast_paths().conv_max_filters)

    def call(self, inputs):
        """Convolution of ``inputs`` (see the class for the path taken)."""
        if self._input_gradient_path(inputs):
            outputs = _conv_k4s2_valid(inputs, self._kernel_tensor(inputs.dtype))
            return finish_outputs(self, outputs)
        if not self._matmul_path(inputs):
            return super().call(inputs)
        import tensorflow as tf

        _, height, width, channels_in = inputs.shape
        kh, kw = self.kernel_size
        kernel = self._kernel_tensor(inputs.dtype)  # (kh, kw, in, out)
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
        return finish_outputs(self, outputs)

    def _kernel_tensor(self, dtype):
        import tensorflow as tf

        return tf.cast(tf.convert_to_tensor(self.kernel), dtype)


def _conv_k4s2_valid(inputs, kernel):
    """Kernel-4, stride-2 valid convolution whose input gradient is a matrix product."""
    import tensorflow as tf

    @tf.custom_gradient
    def convolution(x, k):
        y = tf.nn.conv2d(x, k, strides=2, padding="VALID")

        def gradient(dy):
            # The (4, 4, in, out) kernel read as a transposed convolution's
            # (4, 4, its out, its in): dy (out channels) back to x (in channels).
            dx = conv_transpose_k4s2_full(dy, k)
            dk = tf.raw_ops.Conv2DBackpropFilter(
                input=x, filter_sizes=tf.shape(k), out_backprop=dy, strides=[1, 2, 2, 1],
                padding="VALID")
            return dx, dk

        return y, gradient

    return convolution(inputs, kernel)
