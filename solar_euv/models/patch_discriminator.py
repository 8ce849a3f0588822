"""The PatchGAN discriminator of pix2pix as a Keras functional model."""
import keras

from solar_euv.models.config import ArgumentsConfig, model_dtype_policy
from solar_euv.models.layers import batch_norm, conv

__all__ = ["PatchDiscriminator", "build_discriminator", "receptive_field",
           "NOMINAL_RECEPTIVE_FIELDS"]

#: Receptive field in pixels of the PatchGAN for each depth (strided layers).
NOMINAL_RECEPTIVE_FIELDS = {0: 1, 1: 16, 2: 34, 3: 70, 4: 142, 5: 286}


@keras.saving.register_keras_serializable(package="solar_euv")
class PatchDiscriminator(ArgumentsConfig, keras.Model):
    """PatchGAN on the pair (magnetogram, image), returning one logit per patch.

    For ``n_layers >= 1``: C64 stride 2 with LeakyReLU(0.2) and no BatchNorm;
    ``n_layers - 1`` more stride-2 convolutions with ``min(64 * 2**i, 512)``
    filters, BatchNorm and LeakyReLU; one stride-1 convolution with BatchNorm
    and LeakyReLU; and a stride-1 convolution to one channel.  All kernels are
    4x4 with one pixel of zero padding and valid convolution, so a 256 input
    gives 30x30 logits, 512 gives 62x62 and 1024 gives 126x126.  ``n_layers=0``
    is the 1x1 "PixelGAN" (C64 - C128 - BN - C1).  Receptive fields are 1, 16,
    34, 70, 142 and 286 pixels for depths 0..5 (:func:`receptive_field`).

    The model returns logits (no sigmoid): losses apply the sigmoid inside
    a numerically stable cross-entropy.  ``keras.ops.sigmoid`` of the output
    is the seed's patch probability map.

    Parameters
    ----------
    image_size : int
        Side of the square inputs.
    in_channels, out_channels : int
        Channels of the magnetogram and of the (real or generated) image.
    n_layers : int
        Depth 0..5 (number of stride-2 convolutions); 3 gives 70x70 patches.
    base_filters, max_filters : int
        Filters of the first layer and the cap of the doubling schedule.
    synchronized_bn : bool
        BatchNorm statistics over the global batch under ``tf.distribute``.
    """

    def __init__(self, image_size=1024, in_channels=1, out_channels=1, n_layers=3,
                 base_filters=64, max_filters=512, synchronized_bn=True, dtype=None,
                 **kwargs):
        if n_layers not in NOMINAL_RECEPTIVE_FIELDS:
            raise ValueError("`n_layers` must be an integer from 0 to 5. "
                             f"Received: n_layers={n_layers!r}")
        d = model_dtype_policy(dtype)

        # === Layers and functional model ===
        condition = keras.Input((image_size, image_size, in_channels), name="magnetogram")
        image = keras.Input((image_size, image_size, out_channels), name="image")
        x = keras.layers.Concatenate(name="pair", dtype=d)([condition, image])
        if n_layers == 0:
            x = conv(base_filters, 1, 1, "valid", name="conv1", dtype=d)(x)
            x = keras.layers.LeakyReLU(negative_slope=0.2, name="lrelu1", dtype=d)(x)
            x = conv(min(2 * base_filters, max_filters), 1, 1, "valid", name="conv2",
                     dtype=d)(x)
            x = batch_norm("bn2", synchronized_bn, dtype=d)(x)
            x = keras.layers.LeakyReLU(negative_slope=0.2, name="lrelu2", dtype=d)(x)
            x = conv(1, 1, 1, "valid", name="logits_conv", dtype=d)(x)
        else:
            for i in range(n_layers + 1):
                stride = 2 if i < n_layers else 1
                f = min(base_filters * 2**i, max_filters)
                x = keras.layers.ZeroPadding2D(1, name=f"pad{i + 1}", dtype=d)(x)
                x = conv(f, 4, stride, "valid", name=f"conv{i + 1}", dtype=d)(x)
                if i > 0:
                    x = batch_norm(f"bn{i + 1}", synchronized_bn, dtype=d)(x)
                x = keras.layers.LeakyReLU(negative_slope=0.2, name=f"lrelu{i + 1}",
                                           dtype=d)(x)
            x = keras.layers.ZeroPadding2D(1, name="pad_logits", dtype=d)(x)
            x = conv(1, 4, 1, "valid", name="logits_conv", dtype=d)(x)
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
        kwargs.setdefault("name", "discriminator")
        super().__init__(inputs=[condition, image], outputs=logits, **kwargs)
        self.dtype_policy = d  # Functional ignores dtype=; keep it for get_config

        # === Config ===
        self._set_arguments(image_size=image_size, in_channels=in_channels,
                            out_channels=out_channels, n_layers=n_layers,
                            base_filters=base_filters, max_filters=max_filters,
                            synchronized_bn=synchronized_bn)


def build_discriminator(image_size=1024, in_channels=1, out_channels=1, n_layers=3,
                        **kwargs):
    """Build the PatchGAN discriminator; see :class:`PatchDiscriminator`."""
    return PatchDiscriminator(image_size=image_size, in_channels=in_channels,
                              out_channels=out_channels, n_layers=n_layers, **kwargs)


def receptive_field(model):
    """Receptive field in pixels of one output of a chain of convolutions.

    Computed from the built layers: every convolution or pooling layer of
    ``model`` (in order) contributes ``(kernel - 1) * dilation`` times the
    product of the strides before it.  Padding does not change the receptive
    field.  Meant for chain models such as :class:`PatchDiscriminator`; a
    model with parallel branches (the U-Net) has no single chain to follow.

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    int
    """
    field, jump = 1, 1
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            if isinstance(layer, keras.layers.Conv2DTranspose):
                raise ValueError("`receptive_field` follows down-sampling chains; "
                                 f"received a transposed convolution {layer.name!r}.")
            kernel, stride = layer.kernel_size[0], layer.strides[0]
            dilation = layer.dilation_rate[0]
        elif isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
            kernel, stride, dilation = layer.pool_size[0], layer.strides[0], 1
        else:
            continue
        field += (kernel - 1) * dilation * jump
        jump *= stride
    return field
