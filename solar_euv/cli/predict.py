"""``solar-euv predict``: generate AIA FITS and PNG images from line-of-sight magnetograms."""
import click

from solar_euv.cli.base import SolarEUVCommand
from solar_euv.cli.options import (MODEL_PASSBANDS_HELP, passbands_option, seed_option,
                                  verbosity_options)

__all__ = ["command"]


@click.command("predict", cls=SolarEUVCommand)
@click.argument("model", type=click.Path(exists=False))
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True,
                type=click.Path(exists=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory for the generated files (created if missing; must be empty "
                   "unless --overwrite).")
@click.option("--format", "formats", default="fits,png", show_default=True,
              help="What to write per passband: fits, png or fits,png.")
@click.option("--batch-size", type=click.IntRange(1), default=4, show_default=True,
              help="Magnetograms per Model.predict batch.")
@click.option("--mc-samples", type=click.IntRange(0), default=0, show_default=True,
              help="Run the generator K times with dropout active and write the mean and "
                   "the per-pixel standard deviation (<name>.std.fits); 0: dropout off.")
@seed_option(default=None, help_text="Seed of the dropout masks for --mc-samples (default: "
                                      "random).")
@passbands_option(default=None, help_text=MODEL_PASSBANDS_HELP)
@click.option("--overwrite", is_flag=True,
              help="Write into a non-empty --out (files of the same names are replaced).")
@click.option("--on-error", type=click.Choice(["stop", "skip"]), default="stop",
              show_default=True,
              help="stop: refuse the run at the first unusable input; skip: warn and go on.")
@verbosity_options
def command(model, inputs, out_dir, formats, batch_size, mc_samples, seed, passbands,
            overwrite, on_error, verbose, quiet):
    """Generate AIA images from line-of-sight magnetograms with a trained MODEL.

    MODEL is a `solar-euv-train` run directory or a .keras file.  INPUT is a
    full-disk line-of-sight magnetogram FITS file (SDO/HMI hmi.M_720s or
    hmi.M_45s; SOHO/MDI mdi.fd_M_96m_lev182 or NSO/GONG, converted to
    HMI-equivalent Gauss with the factor recorded in the output header) or a
    directory of them.  Each magnetogram is put on the grid
    the model was trained on, run through keras Model.predict and converted to
    DN/s; for each passband B this writes aia_generated.<T_OBS>.<B>.fits (a map
    sunpy opens as AIA, on the common grid, with the provenance in its header)
    and a PNG with the sunpy colormap.  Nothing is written unless every input
    succeeds (see --on-error).

    Example: ``solar-euv predict runs/solar-euv hmi_dir/ --out gen/ --mc-samples 8``
    """
    import warnings

    from solar_euv.inference.predict import predict_files
    from solar_euv.inference.trained_model import load_trained_model

    verbosity = verbose - quiet
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trained = load_trained_model(model, passbands=passbands)
        if verbosity >= 0:
            click.echo(f"model {trained.label} ({trained.kind}, {trained.image_size} px, "
                       f"passbands {','.join(trained.passbands)}; scaling from "
                       f"{trained.metadata_source})")
        written = predict_files(
            trained, inputs, out_dir, formats=formats.split(","), batch_size=batch_size,
            mc_samples=mc_samples, seed=seed, overwrite=overwrite, on_error=on_error,
            echo=click.echo if verbosity > 0 else None)
    for w in caught:
        if verbosity >= 0 and "solar_euv" in type(w.message).__module__:
            click.echo(f"Warning: {w.message}", err=True)
    if verbosity >= 0:
        click.echo(f"wrote {len(written)} files to {out_dir}")
