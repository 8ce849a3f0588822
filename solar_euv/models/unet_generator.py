"""The U-Net generator of Park et al. (2019) as a Keras functional model."""
import math

import keras

from solar_euv.models.config import ArgumentsConfig, model_dtype_policy
from solar_euv.models.layers import batch_norm, conv, conv_transpose

__all__ = ["UNetGenerator", "build_generator", "generator_filters"]


def generator_filters(image_size, bottleneck_size=4, base_filters=64, max_filters=512):
    """Filters of each encoder level, from the first (full resolution) down.

    The number of levels is ``log2(image_size / bottleneck_size)``: 8 at
    1024 with the seed's 4x4 bottleneck, 10 with the original code's 1x1.
    Level ``k`` has ``min(base_filters * 2**k, max_filters)`` filters.
    """
    levels = int(round(math.log2(image_size / bottleneck_size)))
    return [min(base_filters * 2**k, max_filters) for k in range(levels)]


@keras.saving.register_keras_serializable(package="solar_euv")
class UNetGenerator(ArgumentsConfig, keras.Model):
    """pix2pix U-Net from a magnetogram to one or more AIA passbands.

    At ``image_size=1024`` with the defaults this is the seed network: an
    encoder C64 (no BatchNorm) - C128 - C256 - C512 x5, every convolution
    4x4 stride 2, each followed by BatchNorm and LeakyReLU(0.2) except the
    4x4 bottleneck, which ends in ReLU; a decoder of transposed convolutions
    512 x4 (dropout 0.5 on the first three), 256, 128, 64, each BatchNorm -
    (Dropout) - ReLU and concatenated with the encoder output of the same
    size; and a last transposed convolution to ``out_channels`` with tanh.
    No convolution has a bias.  Other sizes keep the channel schedule and
    derive the number of levels from the size.

    Parameters
    ----------
    image_size : int
        Side of the square input and output in pixels; a power of two from
        64 to 2048.
    in_channels, out_channels : int
        Channels of the input (1: the magnetogram) and of the output (1 for
        one passband, 9 for one model of all nine).
    base_filters, max_filters : int
        Filters of the first level and the cap of the doubling schedule
        (64 and 512 in the paper; tests use smaller values).
    bottleneck_size : int
        Spatial size at the bottom of the U: 4 for the seed's network, 1 for
        the original code's deeper variant (whose 1x1 bottleneck has no
        BatchNorm, since a 1x1 map has no spatial statistics).
    dropout_rate : float
        Dropout of the first three decoder blocks (pix2pix's noise source).
    synchronized_bn : bool
        BatchNorm statistics over the global batch under ``tf.distribute``.
    """

    def __init__(self, image_size=1024, in_channels=1, out_channels=1, base_filters=64,
                 max_filters=512, bottleneck_size=4, dropout_rate=0.5,
                 synchronized_bn=True, dtype=None, **kwargs):
        _check_size(image_size, bottleneck_size)
        # Every layer gets the model's dtype policy (default: the global one),
        # so a mixed-precision model reloads as mixed precision.
        dtype = model_dtype_policy(dtype)
        filters = generator_filters(image_size, bottleneck_size, base_filters, max_filters)
        levels = len(filters)

        # === Layers and functional model ===
        inputs = keras.Input((image_size, image_size, in_channels), name="magnetogram")
        x = inputs
        d = dtype
        skips = []
        for k, f in enumerate(filters):
            bottom = k == levels - 1
            x = conv(f, 4, 2, "same", name=f"enc{k + 1}_conv", dtype=d)(x)
            if k > 0 and not (bottom and bottleneck_size == 1):
                x = batch_norm(f"enc{k + 1}_bn", synchronized_bn, dtype=d)(x)
            if bottom:
                x = keras.layers.ReLU(name=f"enc{k + 1}_relu", dtype=d)(x)
            else:
                x = keras.layers.LeakyReLU(negative_slope=0.2, name=f"enc{k + 1}_lrelu",
                                         dtype=d)(x)
                skips.append(x)
        for i, k in enumerate(range(levels - 2, -1, -1)):
            n = i + 1
            x = conv_transpose(filters[k], name=f"dec{n}_convt", dtype=d)(x)
            x = batch_norm(f"dec{n}_bn", synchronized_bn, dtype=d)(x)
            if i < 3 and dropout_rate > 0:
                x = keras.layers.Dropout(dropout_rate, name=f"dec{n}_dropout", dtype=d)(x)
            x = keras.layers.ReLU(name=f"dec{n}_relu", dtype=d)(x)
            x = keras.layers.Concatenate(name=f"dec{n}_skip", dtype=d)([x, skips[k]])
        x = conv_transpose(out_channels, name="out_convt", dtype=d)(x)
        # The output stays float32 under mixed precision (stable losses).
        outputs = keras.layers.Activation("tanh", dtype="float32", name="out_tanh")(x)
        kwargs.setdefault("name", "generator")
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = dtype  # Functional ignores dtype=; keep it for get_config

        # === Config ===
        self._set_arguments(image_size=image_size, in_channels=in_channels,
                            out_channels=out_channels, base_filters=base_filters,
                            max_filters=max_filters, bottleneck_size=bottleneck_size,
                            dropout_rate=dropout_rate, synchronized_bn=synchronized_bn)


def _check_size(image_size, bottleneck_size):
    if (not isinstance(image_size, int) or image_size < 64 or image_size > 2048
            or image_size & (image_size - 1)):
        raise ValueError("`image_size` must be a power of two from 64 to 2048. "
                         f"Received: image_size={image_size!r}")
    if bottleneck_size not in (1, 4):
        raise ValueError("`bottleneck_size` must be 4 (the seed's U-Net) or 1 (the "
                         f"original code's deeper variant). Received: "
                         f"bottleneck_size={bottleneck_size!r}")


def build_generator(image_size=1024, in_channels=1, out_channels=1, **kwargs):
    """Build the paper's U-Net generator; see :class:`UNetGenerator` for arguments.

    Examples
    --------
    >>> import solar_euv
    >>> solar_euv.build_generator(1024).count_params()  # doctest: +SKIP
    """
    return UNetGenerator(image_size=image_size, in_channels=in_channels,
                         out_channels=out_channels, **kwargs)
