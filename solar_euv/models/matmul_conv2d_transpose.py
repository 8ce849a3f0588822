"""Transposed convolution that computes small inputs as one matrix product.

The U-Net decoder's first transposed convolutions (kernel 4, stride 2) run on
4x4 and 8x8 inputs with 512-1024 channels.  There the TensorFlow CPU kernel
(oneDNN "backward data") is memory-bound and slower than the layers around
it.  Written as one matrix product of the input pixels with the whole kernel
followed by an overlap-add of the 4x4 patches (and ``depth_to_space`` to
interleave the four output phases), the same layer is faster; from 16x16
inputs on, the oneDNN kernel is as fast or faster and is kept.  ``python
benchmarks/layer_speed.py --what convt`` measures both; README "Speed" has
the figures.
"""
import keras

from solar_euv.device import FAST_PATHS, MEASURED_KIND, fast_paths

__all__ = ["MatmulConv2DTranspose", "MATMUL_MAX_PIXELS", "MATMUL_MAX_OUTPUT_CHANNELS",
           "conv_transpose_k4s2_full", "finish_outputs"]

#: On the device kind they were measured on (AVX-512 CPUs with bfloat16),
#: inputs with at most this many pixels (``height * width``) use the matrix
#: product; larger inputs use the backend's transposed convolution ...
MATMUL_MAX_PIXELS = FAST_PATHS[MEASURED_KIND].convt_max_pixels
#: ... unless the layer has at most this many output channels (from 4 on the
#: backend's kernel is faster again).  Other kinds: :data:`solar_euv.device.FAST_PATHS`.
MATMUL_MAX_OUTPUT_CHANNELS = FAST_PATHS[MEASURED_KIND].convt_max_output_channels


def conv_transpose_k4s2_full(inputs, kernel, kernel_first=None):
    """Kernel 4, stride 2 transposed convolution as one matrix product and an overlap-add.

    Computes, for ``inputs`` of static shape ``(n, h, w, c_in)`` and
    ``kernel`` of shape ``(4, 4, c_out, c_in)`` (Keras's transposed
    convolution layout, also the layout of a forward convolution's kernel
    read as ``(4, 4, its c_in, its c_out)``)::

        Z[n, i, j, kh, kw, :] = inputs[n, i, j, :] @ kernel[kh, kw, :, :].T
        y[n, 2i + kh, 2j + kw, :] += Z[n, i, j, kh, kw, :]

    on the full ``(n, 2h + 2, 2w + 2, c_out)`` grid: the transposed
    convolution with ``"valid"`` padding, which is also the gradient of a
    kernel-4, stride-2 ``"valid"`` convolution with respect to its input.
    Cropping one pixel on each side gives ``"same"`` padding.  TensorFlow
    only.

    Parameters
    ----------
    inputs : tf.Tensor
        Channels-last input with static height, width and channels.
    kernel : tf.Tensor
        ``(4, 4, c_out, c_in)`` kernel in the dtype of ``inputs``.
    kernel_first : bool, optional
        Allow the kernel-first product (``W @ x.T``) where the kernel
        outweighs the pixels; default: ``fast_paths().kernel_first`` of
        :mod:`solar_euv.device`.

    Returns
    -------
    tf.Tensor
    """
    import tensorflow as tf

    _, height, width, channels_in = inputs.shape
    channels_out = kernel.shape[2]
    # A static batch keeps every shape static (graph FLOP counts need it).
    batch = inputs.shape[0] if inputs.shape[0] is not None else tf.shape(inputs)[0]
    flat_inputs = tf.reshape(inputs, (-1, channels_in))
    flat_kernel = tf.reshape(kernel, (16 * channels_out, channels_in))
    # kh = 2q + r, kw = 2p + s: tap (q, p) of output phase (r, s) lands on
    # coarse pixel (i + q, j + p) of a grid one larger on each side.  The
    # taps are put in (q, p) order first, then one unstack: its gradient is
    # one stack, where four strided slices would need four full-size
    # scatter gradients.
    pixels = inputs.shape[0] * height * width if inputs.shape[0] is not None else None
    if kernel_first is None:
        kernel_first = fast_paths().kernel_first
    if kernel_first and pixels is not None and pixels <= 16 * channels_out:
        # Few pixels, a large kernel (the decoder's first layers): kernel
        # first, which oneDNN runs about twice as fast in float32.
        taps = _kernel_first_product(flat_inputs, flat_kernel)  # (q r p s out, n h w)
        taps = tf.reshape(taps, (2, 2, 2, 2, channels_out, batch, height, width))
        taps = tf.transpose(taps, (0, 2, 5, 6, 7, 1, 3, 4))
    else:
        taps = tf.matmul(flat_inputs, flat_kernel, transpose_b=True)  # (n h w, q r p s out)
        taps = tf.reshape(taps, (batch, height, width, 2, 2, 2, 2, channels_out))
        taps = tf.transpose(taps, (3, 5, 0, 1, 2, 4, 6, 7))
    parts = tf.unstack(tf.reshape(taps, (4, batch, height, width, 4 * channels_out)))
    total = None
    for index, part in enumerate(parts):
        q, p = divmod(index, 2)
        part = tf.pad(part, [[0, 0], [q, 1 - q], [p, 1 - p], [0, 0]])
        total = part if total is None else total + part
    return tf.nn.depth_to_space(total, 2)


def finish_outputs(layer, outputs):
    """Add a convolution layer's bias and apply its activation, as Keras's ``call`` does."""
    import tensorflow as tf

    if layer.use_bias:
        outputs = outputs + tf.cast(layer.bias, outputs.dtype)
    if layer.activation is not None:
        outputs = layer.activation(outputs)
    return outputs


def _kernel_first_product(flat_inputs, flat_kernel):
    """``flat_kernel @ flat_inputs.T``, with gradients that transpose no large operand.

    The same products as ``flat_inputs @ flat_kernel.T`` and its gradients,
    in the layout oneDNN's CPU matrix product handles best when the kernel
    is much larger than the inputs (``x @ W.T`` with a transposed 32 MiB
    ``W`` ran at half the speed of ``W @ x.T`` in float32).
    """
    import tensorflow as tf

    @tf.custom_gradient
    def product(x, w):
        def gradient(upstream):
            return (tf.matmul(upstream, w, transpose_a=True),  # (pixels, in)
                    tf.matmul(upstream, x))  # (16 out, in)

        return tf.matmul(w, x, transpose_b=True), gradient

    return product(flat_inputs, flat_kernel)


@keras.saving.register_keras_serializable(package="solar_euv")
class MatmulConv2DTranspose(keras.layers.Conv2DTranspose):
    """:class:`keras.layers.Conv2DTranspose` with a matrix-product path for small inputs.

    Same arguments, kernel, configuration and results as
    :class:`keras.layers.Conv2DTranspose`.  On the TensorFlow backend, for a
    kernel of 4, stride 2, ``"same"`` padding, channels-last data, no
    dilation, and an input of at most :data:`MATMUL_MAX_PIXELS` pixels or
    at most :data:`MATMUL_MAX_OUTPUT_CHANNELS` filters, the output is
    computed as::

        Z[n, i, j, kh, kw, :] = x[n, i, j, :] @ kernel[kh, kw, :, :].T
        y[n, 2i + kh - 1, 2j + kw - 1, :] += Z[n, i, j, kh, kw, :]

    (one matrix product, then four shifted sums and ``depth_to_space``);
    the gradients follow from those ops.  Everything else runs Keras's own
    code.  The thresholds are those of the detected device kind
    (:func:`solar_euv.device.fast_paths`, read when ``call`` is traced; on
    some kinds the path is off); the values above are the measured kind's.

    Parameters
    ----------
    *args, **kwargs
        As :class:`keras.layers.Conv2DTranspose`.

    Attributes
    ----------
    max_matmul_pixels : int or None
        Largest input (``height * width``) computed by the matrix product;
        None (the default): ``fast_paths().convt_max_pixels`` of the device
        kind.  Set on an instance, it wins over the device table and the
        ``SOLAR_EUV_FAST_PATHS`` switch (``benchmarks/layer_speed.py`` does so
        to time both paths).
    """

    max_matmul_pixels = None

    def _matmul_path(self, inputs):
        if keras.backend.backend() != "tensorflow":
            return False
        if (tuple(self.kernel_size) != (4, 4) or tuple(self.strides) != (2, 2)
                or self.padding != "same" or self.data_format != "channels_last"
                or tuple(self.dilation_rate) != (1, 1) or self.output_padding is not None):
            return False
        shape = inputs.shape
        if len(shape) != 4 or shape[1] is None or shape[2] is None:
            return False
        paths = fast_paths()
        max_pixels = (paths.convt_max_pixels if self.max_matmul_pixels is None
                      else self.max_matmul_pixels)
        return (shape[1] * shape[2] <= max_pixels
                or (self.filters <= paths.convt_max_output_channels
                    and shape[3] is not None))

    def call(self, inputs):
        """Transposed convolution of ``inputs`` (see the class for the path taken)."""
        if not self._matmul_path(inputs):
            return super().call(inputs)
        import tensorflow as tf

        _, height, width, _ = inputs.shape
        kernel = tf.cast(self.kernel, inputs.dtype)  # (4, 4, out, in)
        outputs = conv_transpose_k4s2_full(inputs, kernel)[:, 1:2 * height + 1,
                                                            1:2 * width + 1, :]
        return finish_outputs(self, outputs)
