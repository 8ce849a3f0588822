"""``solar-euv export``: a SavedModel for TensorFlow Serving, in Gauss and DN/s."""
import click

from solar_euv.cli.base import SolarEUVCommand
from solar_euv.cli.options import MODEL_PASSBANDS_HELP, passbands_option, verbosity_options

__all__ = ["command"]


@click.command("export", cls=SolarEUVCommand)
@click.argument("model", type=click.Path(exists=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Model base directory; the SavedModel goes to OUT/NAME/VERSION/.")
@click.option("--name", default=None,
              help="Model name in TF Serving (default: the run directory's name).")
@click.option("--version", "version", type=click.IntRange(1), default=1, show_default=True,
              help="Version number (TF Serving serves the highest).")
@passbands_option(default=None, help_text=MODEL_PASSBANDS_HELP)
@click.option("--overwrite", is_flag=True, help="Replace an existing OUT/NAME/VERSION.")
@click.option("--no-verify", "verify", is_flag=True, flag_value=False, default=True,
              help="Skip loading the export back and comparing it with the Keras model.")
@verbosity_options
def command(model, out_dir, name, version, passbands, overwrite, verify, verbose, quiet):
    """Export MODEL (a run directory or .keras file) as a SavedModel for TF Serving.

    The serving_default signature takes the magnetogram in Gauss on the
    model's grid ([batch, N, N, 1] float32, input "magnetogram") and returns
    one output per passband (aia_171, ...) in DN/s, with the run's scaling
    (HMI clip, off-disk mask) baked in; the network_units signature is the
    bare generator.  The export is loaded back and checked against the Keras
    model before it is moved into place.

    Example: ``solar-euv export runs/solar-euv --out serving/ --version 1``
    """
    from solar_euv.export import export_saved_model
    from solar_euv.inference.trained_model import load_trained_model

    verbosity = verbose - quiet
    trained = load_trained_model(model, passbands=passbands)
    path = export_saved_model(trained, out_dir, name=name, version=version,
                              overwrite=overwrite, verify=verify)
    if verbosity >= 0:
        outputs = ", ".join(f"aia_{b}" for b in trained.passbands)
        click.echo(f"exported {trained.label} to {path} (serving_default: magnetogram "
                   f"[batch, {trained.image_size}, {trained.image_size}, 1] G -> {outputs} "
                   f"in DN/s; network_units)" + ("; verified against the Keras model"
                                                  if verify else ""))
