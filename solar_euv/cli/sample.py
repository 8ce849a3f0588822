"""``solar-euv sample``: write synthetic SDO-like HMI and AIA level-1 FITS files."""
import click

from solar_euv.cli.base import SolarEUVCommand
from solar_euv.cli.options import (image_size_option, passbands_option, seed_option,
                                  verbosity_options)

__all__ = ["command"]

_DEFAULT_START = "2011-01-01"
_DEFAULT_END = "2017-12-31"


@click.command("sample", cls=SolarEUVCommand)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory to write the FITS files into (created if missing).")
@click.option("--start", default=None,
              help=f"First time, ISO 8601 UTC [default: {_DEFAULT_START}].")
@click.option("--end", default=None,
              help=f"Last time; a bare date includes that whole day [default: {_DEFAULT_END}].")
@click.option("--cadence", default="6h", show_default=True,
              help="Time between samples: 6h, 30min, 720s, 1d, ...")
@click.option("--count", type=int, default=None,
              help="Instead of --start/--end: this many times spread evenly over "
                   f"{_DEFAULT_START} to {_DEFAULT_END} on the cadence grid.")
@image_size_option(default=1024, check=False, alias="--size",
                   help_text="Image side in pixels: 4096 (full resolution), 2048, 1024, 512, "
                             "256, 128 or 64; smaller sizes keep the field of view.")
@passbands_option(default=("all",),
                  help_text="AIA passbands to write (repeat or comma-separate; 'all' for "
                            "the nine).")
@seed_option(help_text="Seed of the synthetic Sun (active regions, network, noise).")
@verbosity_options
def command(out_dir, start, end, cadence, count, image_size, passbands, seed, verbose,
            quiet):
    """Write a synthetic Sun as SDO-like level-1 FITS files (no network needed).

    Each time step gives one HMI 720 s magnetogram and one AIA image per
    passband, named and laid out like JSOC downloads, with the instrument
    effects that preparation must undo (HMI rotated by 180 deg, AIA roll and
    off-centre disk, plate scales, exposure times, degradation, the yearly
    change of the Sun's apparent size).  The same seed and times give
    byte-identical files.

    Examples:

    \b
      solar-euv sample --out /tmp/s --count 4 --image-size 1024
      solar-euv sample --out /tmp/s --start 2014-01-01 --end 2014-01-03 --image-size 256
    """
    from solar_euv.exceptions import SolarEUVError
    from solar_euv.synthetic.sample import (SAMPLE_SIZES, sample_times, spread_times,
                                            write_sample)

    if image_size not in SAMPLE_SIZES:
        sizes = ", ".join(str(s) for s in SAMPLE_SIZES)
        raise SolarEUVError(f"--image-size {image_size} is not supported; use one of {sizes}")
    if count is not None:
        if start is not None or end is not None:
            raise SolarEUVError("give either --count or --start/--end, not both")
        times = spread_times(count, _DEFAULT_START, _DEFAULT_END, cadence)
    else:
        times = sample_times(start or _DEFAULT_START, end or _DEFAULT_END, cadence)
    if not times:
        raise SolarEUVError(f"no time between --start {start} and --end {end}")
    verbosity = verbose - quiet

    def progress(k, t, paths):
        if verbosity > 0:
            click.echo(f"{t.isot[:19]}: {len(paths)} files")

    written = write_sample(out_dir, times, size=image_size, passbands=passbands, seed=seed,
                           progress=progress)
    if verbosity >= 0:
        click.echo(f"wrote {len(written)} files ({len(times)} time steps, {image_size} px, "
                   f"seed {seed}) to {out_dir}")
