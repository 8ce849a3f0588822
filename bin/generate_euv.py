#!/usr/bin/env python
"""Generate AIA images from HMI magnetograms with keras ``Model.predict``.

The package's pieces used directly, without the ``solar-euv predict``
command: load the model and its scaling, put each magnetogram on the model's
grid, scale it to network units, ``model.predict``, back to DN/s, and write
one FITS file per passband that ``sunpy.map.Map`` opens as an AIA map::

    python bin/generate_euv.py runs/solar-euv \\
        hmi.M_720s.20170701_000000_TAI.3.magnetogram.fits --out gen/

Each output is ``<out>/<input stem>.<passband>.fits``; an existing file is
not replaced.  Exit status 1 with one ``Error:`` line for a bad input.  The options
are spelt as in the ``solar-euv`` commands (``--passbands``, ``-v``/``-q``).
"""
import os
import pathlib
import sys

import click

from solar_euv.cli.base import SolarEUVCommand, run_command
from solar_euv.cli.options import MODEL_PASSBANDS_HELP, passbands_option, verbosity_options


@click.command(cls=SolarEUVCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("model")
@click.argument("magnetograms", nargs=-1, required=True)
@click.option("--out", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Output directory.")
@click.option("--batch-size", type=click.IntRange(1), default=4, show_default=True,
              help="Model.predict batch size.")
@passbands_option(default=None, help_text=MODEL_PASSBANDS_HELP)
@verbosity_options(quiet_help="Do not list the files written (repeatable).")
def command(model, magnetograms, out, batch_size, passbands, verbose, quiet):
    """Generate AIA FITS images from HMI line-of-sight magnetogram FITS files
    (MAGNETOGRAMS) with a trained solar_euv MODEL (a solar-euv-train run
    directory or .keras file), through keras Model.predict.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from solar_euv.exceptions import InputError
    from solar_euv.inference.generation import network_input, physical_output
    from solar_euv.inference.trained_model import load_trained_model
    from solar_euv.products import output_header, write_fits
    from solar_euv.sdo.prep import prepare_hmi_files

    trained = load_trained_model(model, passbands=passbands)
    images, gauss = prepare_hmi_files(magnetograms, trained.image_size)
    y = trained.model.predict(network_input(gauss, trained.scaling),
                              batch_size=batch_size, verbose=0)
    dn_per_s = physical_output(y, trained.scaling)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        stem = pathlib.Path(image.path).name.split(".fits")[0]
        for c, band in enumerate(trained.passbands):
            target = out / f"{stem}.{band}.fits"
            if target.exists():
                raise InputError(target, "exists already; remove it or choose another "
                                         "--out")
            header = output_header(trained, image.time, band, source=image.path,
                                   source_header=image.map.meta)
            write_fits(target, dn_per_s[i, ..., c], header)
            if verbose - quiet >= 0:
                click.echo(target)


def main(argv=None):
    """Run the script with the arguments ``argv``; returns the exit status."""
    return run_command(command, argv, "generate_euv.py")


if __name__ == "__main__":
    sys.exit(main())
