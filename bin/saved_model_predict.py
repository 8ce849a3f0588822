#!/usr/bin/env python
"""Run an exported SavedModel (``solar-euv export``) on HMI magnetograms, without Keras.

What a TF Serving client does, in one process: prepare each magnetogram on
the model's grid in Gauss, call the ``serving_default`` signature, and write
the DN/s outputs as FITS (``<out>/<input stem>.<passband>.fits``).  With
``--request-json FILE`` it also writes the JSON body of the equivalent TF
Serving REST request (``POST http://HOST:8501/v1/models/NAME:predict``)::

    python bin/saved_model_predict.py serving/solar-euv/1 hmi.fits --out gen/ \\
        --request-json request.json
    curl -d @request.json http://localhost:8501/v1/models/solar-euv:predict

The options are spelt as in the ``solar-euv`` commands (``-v``/``-q``).
"""
import json
import os
import pathlib
import sys

import click

from solar_euv.cli.base import SolarEUVCommand, run_command
from solar_euv.cli.options import verbosity_options


@click.command(cls=SolarEUVCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("saved_model")
@click.argument("magnetograms", nargs=-1, required=True)
@click.option("--out", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Output directory.")
@click.option("--request-json", default=None, type=click.Path(dir_okay=False),
              help="Also write the TF Serving REST request body to this file.")
@verbosity_options(quiet_help="Do not list the files written (repeatable).")
def command(saved_model, magnetograms, out, request_json, verbose, quiet):
    """Generate AIA FITS images from HMI line-of-sight magnetogram FITS files
    (MAGNETOGRAMS) with an exported solar_euv SavedModel (SAVED_MODEL, the
    version directory, e.g. serving/solar-euv/1), through tf.saved_model.load
    and its serving_default signature.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from solar_euv.exceptions import InputError
    from solar_euv.products import write_fits
    from solar_euv.sdo.grid import common_grid_header
    from solar_euv.sdo.prep import prepare_hmi_files

    root = pathlib.Path(saved_model)
    meta_path = root / "assets.extra" / "solar_euv.json"
    if not meta_path.is_file():
        raise InputError(root, "is not a SavedModel from `solar-euv export` (no "
                               "assets.extra/solar_euv.json)")
    meta = json.loads(meta_path.read_text())
    n, passbands = int(meta["image_size"]), meta["passbands"]
    images, gauss = prepare_hmi_files(magnetograms, n)
    gauss = gauss[..., None]
    serve = tf.saved_model.load(str(root)).signatures["serving_default"]
    outputs = serve(magnetogram=tf.constant(gauss, tf.float32))
    if request_json:
        body = {"signature_name": "serving_default",
                "instances": [{"magnetogram": g.tolist()} for g in gauss]}
        pathlib.Path(request_json).write_text(json.dumps(body))
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        stem = pathlib.Path(image.path).name.split(".fits")[0]
        for band in passbands:
            data = outputs[f"aia_{band}"].numpy()[i, ..., 0]
            header = common_grid_header(n, image.time, instrument="AIA", passband=band,
                                        unit="DN/s", extra={
                                            "ORIGIN": "solar_euv SavedModel",
                                            "MODEL": str(meta.get("source"))[-68:],
                                            "SOURCE": pathlib.Path(image.path).name[-68:]})
            target = out / f"{stem}.{band}.fits"
            write_fits(target, data, header)
            if verbose - quiet >= 0:
                click.echo(target)


def main(argv=None):
    """Run the script with the arguments ``argv``; returns the exit status."""
    return run_command(command, argv, "saved_model_predict.py")


if __name__ == "__main__":
    sys.exit(main())
