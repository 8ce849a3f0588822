"""Keras models: the U-Net generator, the PatchGAN discriminator and Pix2Pix."""
from solar_euv.models.patch_discriminator import (
    NOMINAL_RECEPTIVE_FIELDS,
    PatchDiscriminator,
    build_discriminator,
    receptive_field,
)
from solar_euv.models.pix2pix import Pix2Pix, build_pix2pix, paper_optimizers
from solar_euv.models.unet_generator import UNetGenerator, build_generator, generator_filters
from solar_euv.models.fused_adam import FusedAdam
from solar_euv.models.linear_decay import LinearDecay
from solar_euv.models.loading import load_model

__all__ = [
    "UNetGenerator",
    "PatchDiscriminator",
    "Pix2Pix",
    "build_generator",
    "build_discriminator",
    "build_pix2pix",
    "generator_filters",
    "paper_optimizers",
    "receptive_field",
    "NOMINAL_RECEPTIVE_FIELDS",
    "load_model",
    "FusedAdam",
    "LinearDecay",
]
