"""``solar-euv prepare``: SDO FITS files -> TFRecord training set with a manifest."""
import os
import pathlib

import click

from solar_euv.cli.base import SolarEUVCommand
from solar_euv.cli.options import image_size_option, passbands_option, verbosity_options

__all__ = ["command"]


def _correction_table(ctx, param, value):
    if value is None:
        return None
    if value.lower() == "jsoc":
        return "jsoc"
    if not os.path.isfile(value):
        raise click.BadParameter(f"'jsoc' or an existing table file; {value!r} is neither")
    return value


@click.command("prepare", cls=SolarEUVCommand)
@click.argument("raw_dir", type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=pathlib.Path))
@image_size_option(default=1024, maximum=4096, alias="--size",
                   help_text="Side of the common grid in pixels, a power of two from 64 to "
                             "4096 (solar radius 392 x N / 1024).")
@click.option("--splits", "splits_spec", default="paper", show_default=True,
              help="Date ranges: NAME=START:END,... (e.g. train=2011-01-01:2016-12-31,"
                   "validation=2017-01:2017-06; ends inclusive), a JSON file, or "
                   "'paper' for train 2011-2016, validation 2017-01..06, test 2017-07..12.")
@passbands_option(default=("all",),
                  help_text="AIA passbands to pair and store, comma-separated (or repeat "
                            "the option), or 'all'.")
@click.option("--tolerance", default="6min", show_default=True,
              help="Largest time difference between a magnetogram and its AIA image "
                   "(a duration with a unit: 6min, 360s).")
@click.option("--workers", type=click.IntRange(1, 256), default=os.cpu_count() or 1,
              show_default="number of CPUs", help="Processes preparing files in parallel.")
@click.option("--correction-table", default=None, callback=_correction_table,
              metavar="FILE|jsoc",
              help="AIA degradation correction table: a file (aia_V*_response_table.txt), "
                   "or 'jsoc' for the current table from JSOC (cached; needs the network). "
                   "Default: the V8 table shipped with the package (made 2017-12-10).")
@click.option("--pointing", type=click.Choice(["header", "jsoc"], case_sensitive=False),
              default="header", show_default=True,
              help="AIA pointing: the FITS header's, or 'jsoc' for JSOC's 3-hourly master "
                   "pointing table (aia.master_pointing3h through aiapy's update_pointing; "
                   "fetched once for the months of the files, cached; needs the network "
                   "the first time).  Level-1.5 images keep theirs.")
@click.option("--shard-size", type=click.IntRange(1, 4096), default=128, show_default=True,
              help="Target shard size in MiB (at least 16 shards per split when possible).")
@click.option("--strict", is_flag=True,
              help="Stop at the first unusable file (default: skip it, say so and list it "
                   "in manifest.json).")
@click.option("--retry-skipped", is_flag=True,
              help="Read again the files an earlier run into OUT_DIR skipped (by default "
                   "an unchanged file skipped before is skipped again without reading it).")
@click.option("--scheduler", default=None, metavar="local:N|ADDRESS",
              help="Prepare the files as tasks on a Dask cluster instead of --workers "
                   "processes: local:N (N worker processes here) or the address of a "
                   "running dask.distributed scheduler (tcp://host:8786), e.g. one started "
                   "under SLURM by dask-jobqueue.  Every worker must see RAW_DIR under the "
                   "same path.  The shards are the same.  Needs the dask extra.")
@verbosity_options
def command(raw_dir, out_dir, image_size, splits_spec, passbands, tolerance, workers,
            correction_table, pointing, shard_size, strict, retry_skipped, scheduler, verbose,
            quiet):
    """Prepare the SDO files in RAW_DIR as TFRecord shards and manifest.json in OUT_DIR.

    Each magnetogram (identified by its header, not its name: SDO/HMI, or
    SOHO/MDI and NSO/GONG made HMI-equivalent, see `solar-euv predict`) is paired
    with the nearest image of every passband within the tolerance; missing
    passbands are recorded.  Files are calibrated onto the common grid
    (north up, centred, radius 392 x N / 1024 px for --image-size N; AIA in DN/s, degradation
    corrected; HMI in Gauss) and stored as float16 physical units, one
    record per observation, in <split>-NNNNN-of-NNNNN.tfrecord shards.  An
    interrupted run leaves only whole shards; running it again continues.
    --pointing jsoc gives level-1 AIA images the pointing of JSOC's master
    pointing table instead of their headers' (one query per run, cached).

    An unusable file (unreadable, a cutout, another product, a fatal QUALITY
    bit, a date the correction table cannot correct) is skipped with one
    warning line: a skipped AIA image leaves its passband missing, a
    skipped magnetogram drops its observation.  manifest.json lists every
    skipped file and why; a rerun skips them again without reading them
    (--retry-skipped reads them again).  --strict stops at the first.

    Example: ``solar-euv prepare raw/ data/ --image-size 1024 --workers 8``
    """
    from solar_euv.dataset.preparing import prepare_directory

    preparation = prepare_directory(
        raw_dir, out_dir, size=image_size, splits=splits_spec, passbands=passbands,
        tolerance=tolerance, workers=workers, correction_table=correction_table,
        shard_size=shard_size, strict=strict, retry_skipped=retry_skipped,
        progress=quiet == 0, scheduler=scheduler, pointing=pointing.lower())
    if quiet < 2:
        for line in preparation.summary_lines():
            click.echo(line)
