"""``solar-euv fetch``: download HMI, MDI or GONG magnetograms and AIA level-1 images."""
import pathlib

import click

from solar_euv.cli.base import SolarEUVCommand
from solar_euv.cli.options import passbands_option, verbosity_options

__all__ = ["command"]


@click.command("fetch", cls=SolarEUVCommand)
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=pathlib.Path))
@click.option("--start", required=True, help="First grid time, UTC (2017-01-01 or "
                                              "2017-01-01T06:00:00).")
@click.option("--end", required=True, help="Last grid time, UTC, inclusive.")
@click.option("--cadence", default="6h", show_default=True,
              help="Grid step: 6h, 30min, 720s, 1d.")
@passbands_option(default=("all",), allow_none=True,
                  help_text="AIA passbands, comma-separated (or repeat the option), or "
                            "'all'; 'none' for HMI only.")
@click.option("--instrument", type=click.Choice(["hmi", "mdi", "gong"]), default="hmi",
              show_default=True,
              help="Magnetograms from SDO/HMI (hmi.M_720s), SOHO/MDI "
                   "(mdi.fd_M_96m_lev182, 1996-2011, one every 96 min), both from JSOC, or "
                   "NSO/GONG (full-disk site magnetograms, zero-point corrected, from NSO's "
                   "archive; no e-mail needed for GONG alone).")
@click.option("--no-hmi", is_flag=True, help="Do not fetch magnetograms (of --instrument).")
@click.option("--email", envvar="SOLAR_EUV_JSOC_EMAIL",
              help="E-mail address registered with JSOC (required for exports; "
                   "default $SOLAR_EUV_JSOC_EMAIL).")
@click.option("--tolerance", default=None,
              help="Largest time between a grid step and the record chosen for it "
                   "[default: 6min; 48min with --instrument mdi; 30min with gong].")
@click.option("--gong-archive", envvar="SOLAR_EUV_GONG_ARCHIVE", default=None,
              metavar="URL",
              help="NSO archive of GONG's zqa magnetograms [default: "
                   "https://gong2.nso.edu/oQR/zqa; $SOLAR_EUV_GONG_ARCHIVE], e.g. the mirror "
                   "https://nispdata.nso.edu/ftp/oQR/zqa.")
@click.option("--retries", type=click.IntRange(0, 20), default=3, show_default=True,
              help="Download retries per file.")
@click.option("--jobs", type=click.IntRange(1, 32), default=4, show_default=True,
              help="Files downloaded at once (one progress bar over all of them).")
@click.option("--dry-run", is_flag=True, help="Query and list the records; download nothing.")
@verbosity_options
def command(out_dir, start, end, cadence, passbands, instrument, no_hmi, email, tolerance,
            gong_archive, retries, jobs, dry_run, verbose, quiet):
    """Download, into OUT_DIR, the magnetogram (hmi.M_720s, mdi.fd_M_96m_lev182
    with --instrument mdi, or a GONG site magnetogram with --instrument gong)
    and the AIA level-1 image of each passband nearest to every step of a time
    grid.

    GONG files come from NSO's archive of zero-point-corrected average site
    magnetograms (product zqa; one directory per site and day is listed, and
    the file nearest each step, from whichever site, is taken; NSO's file
    names are kept: lezqa250109t0135.fits.gz).  sunpy's Fido client for GONG
    serves only synoptic maps, so it is not used.

    AIA comes from aia.lev1_euv_12s (94-335 A) and aia.lev1_uv_24s (1600,
    1700 A).  Records flagged unusable by QUALITY are passed over for the
    next nearest within the tolerance; steps without one are listed.  Files
    already in OUT_DIR are skipped, downloads go to NAME.part and are renamed
    when complete, so an interrupted fetch continues when run again.

    Example: ``solar-euv fetch --start 2017-01-01 --end 2017-01-31 --cadence 6h
    --passbands 171,193 --email me@example.org raw/``
    """
    from solar_euv.sdo.fetch import fetch

    say = click.echo if verbose > 0 and quiet == 0 else None
    if tolerance is None:
        tolerance = {"mdi": "48min", "gong": "30min"}.get(instrument, "6min")
    result = fetch(start, end, out_dir, cadence=cadence, passbands=passbands, hmi=not no_hmi,
                   email=email, tolerance=tolerance, retries=retries, dry_run=dry_run,
                   progress=say, instrument=instrument, jobs=jobs,
                   bar=say is None and quiet == 0, gong_archive=gong_archive)
    if dry_run and quiet < 2:
        for record in result.planned:
            click.echo(f"{record.step}  {record.channel:>4}  {record.label}"
                       f"  -> {record.filename}")
    if quiet < 2:
        click.echo(f"{out_dir}: {len(result.downloaded)} downloaded, {len(result.skipped)} "
                   f"already present, {len(result.planned)} records chosen, "
                   f"{len(result.missing)} steps without a usable record")
    if result.missing and quiet < 1:
        for channel, step in result.missing:
            click.echo(f"  missing: {channel} at {step}", err=True)
