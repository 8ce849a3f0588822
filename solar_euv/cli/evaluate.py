"""``solar-euv evaluate``: the paper's metrics table and figures for a trained model."""
import click

from solar_euv.cli.base import SolarEUVCommand
from solar_euv.cli.options import MODEL_PASSBANDS_HELP, passbands_option, verbosity_options

__all__ = ["command"]


@click.command("evaluate", cls=SolarEUVCommand)
@click.argument("model", type=click.Path(exists=False))
@click.argument("data", type=click.Path(exists=False))
@click.option("--split", default="test", show_default=True,
              help="Split of DATA to evaluate on (the paper: test, 2017 Jul-Dec).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory for the table and figures (created if missing; must be empty "
                   "unless --overwrite).")
@click.option("--batch-size", type=click.IntRange(1), default=4, show_default=True,
              help="Examples per Model.predict batch.")
@click.option("--figures", type=click.IntRange(0), default=3, show_default=True,
              help="Number of dates (spread over the split) with comparison figures.")
@passbands_option(default=None, help_text=MODEL_PASSBANDS_HELP)
@click.option("--overwrite", is_flag=True,
              help="Write into a non-empty --out (files of the same names are replaced).")
@verbosity_options
def command(model, data, split, out_dir, batch_size, figures, passbands, overwrite, verbose,
            quiet):
    """Score MODEL on a split of DATA with the paper's CC, RE, PPE10 and PPE50.

    MODEL is a `solar-euv-train` run directory or a .keras file; DATA a
    dataset from `solar-euv prepare`.  Prints the per-passband table beside
    Park et al. (2019)'s values and writes metrics.md, metrics.csv,
    metrics.json, per_image.csv, comparison figures (magnetogram | observed |
    generated | difference) for a few dates and histogram2d.png to --out.

    Example: ``solar-euv evaluate runs/solar-euv data/ --split test --out eval/``
    """
    from solar_euv.evaluate import evaluate_model
    from solar_euv.inference.trained_model import load_trained_model

    verbosity = verbose - quiet
    trained = load_trained_model(model, passbands=passbands)
    result = evaluate_model(trained, data, out_dir, split=split, batch_size=batch_size,
                            figures=figures, overwrite=overwrite,
                            echo=click.echo if verbosity > 0 else None)
    if verbosity >= 0:
        click.echo(f"{trained.label} (model {trained.kind}) on {split} of {data}: "
                   f"{result.examples} examples")
        click.echo(result.table, nl=False)
        click.echo(f"wrote {len(result.files)} files to {out_dir}")
