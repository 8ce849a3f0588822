"""Building blocks shared by the generator and the discriminator.

Weight initialisation follows the authors' code (and pix2pix): convolution
kernels ~ N(0, 0.02) without bias, BatchNorm gamma ~ N(1, 0.02), momentum
0.9, epsilon 1.01e-5.
"""
import keras

from solar_euv.models.fused_batch_normalization import FusedBatchNormalization
from solar_euv.models.matmul_conv2d import MatmulConv2D
from solar_euv.models.matmul_conv2d_transpose import MatmulConv2DTranspose

__all__ = ["conv_initializer", "batch_norm", "conv", "conv_transpose"]


def conv_initializer():
    """Kernel initialiser N(0, 0.02) of every convolution."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def batch_norm(name, synchronized, dtype=None):
    """BatchNorm with the authors' settings.

    ``synchronized=True`` computes batch statistics over the global batch
    under ``tf.distribute`` (so N replicas train exactly like one device with
    the same global batch); on one device it is plain BatchNorm.  The layer
    is a :class:`~solar_euv.models.fused_batch_normalization.FusedBatchNormalization`
    (Keras's BatchNormalization with TensorFlow's fused training kernel).
    """
    return FusedBatchNormalization(
        momentum=0.9,
        epsilon=1.01e-5,
        gamma_initializer=keras.initializers.RandomNormal(mean=1.0, stddev=0.02),
        synchronized=synchronized,
        name=name,
        dtype=dtype,
    )


def conv(filters, kernel_size, strides, padding, name, dtype=None):
    """Convolution without bias (a :class:`MatmulConv2D`: Keras's, faster for few filters)."""
    return MatmulConv2D(
        filters, kernel_size, strides=strides, padding=padding, use_bias=False,
        kernel_initializer=conv_initializer(), name=name, dtype=dtype)


def conv_transpose(filters, name, dtype=None):
    """Kernel 4, stride 2, "same" transposed convolution (a :class:`MatmulConv2DTranspose`)."""
    return MatmulConv2DTranspose(
        filters, 4, strides=2, padding="same", use_bias=False,
        kernel_initializer=conv_initializer(), name=name, dtype=dtype)
