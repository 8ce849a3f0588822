"""``solar-euv-train`` (also ``solar-euv train``): train Model A or B.

The options are built from the fields of :class:`~solar_euv.training.TrainConfig`
(their metadata holds the help, choices and ranges), and the parsed values
become a ``TrainConfig`` as they are.
"""
from functools import partial

import click

from solar_euv.cli.base import SolarEUVCommand
from solar_euv.cli.options import (image_size_option, options_from_fields, passbands_option,
                                  seed_option, verbosity_options)
from solar_euv.training import TrainConfig

__all__ = ["command", "main"]


@click.command("train", cls=SolarEUVCommand,
               context_settings={"help_option_names": ["-h", "--help"]})
@options_from_fields(TrainConfig, shared={
    "passbands": partial(passbands_option, alias="--passband"),
    "image_size": image_size_option,
    "seed": seed_option})
@verbosity_options(quiet_help="No per-step progress bar.",
                   verbose_help="A per-step progress bar even when the output is not a "
                                "terminal.")
def command(verbose, quiet, **options):
    """Train a generator of SDO/AIA images from SDO/HMI magnetograms (Park et al. 2019).

    With no options it trains Model A for AIA 171 on the embedded synthetic
    sample (generated on first use, no network) with the quick preset, and
    writes everything to runs/solar-euv:

    \b
      config.json     every option, versions, data manifest hash
      checkpoints/    step_NNNNNNN.keras (last 3) and best.keras (validation L1)
      backup/         model + both optimizers for resuming after a kill
      logs/           TensorBoard: losses, learning rate, image panels
      metrics.csv     validation metrics per validation step
      snapshots/      generated validation images (FITS in DN/s, PNG)
      model.keras     the final model (keras.models.load_model)

    Rerunning the same command after an interruption resumes from the last
    backup.  The paper's setting:

    \b
      solar-euv-train --data DATA --passbands all --preset paper --model B
    """
    from solar_euv.training import train

    verbosity = verbose - quiet
    train(TrainConfig(**options), echo=click.echo,
          verbose=0 if verbosity < 0 else 1 if verbosity > 0 else "auto")


def main():
    """Console-script entry point of ``solar-euv-train``."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command(prog_name="solar-euv-train")
