"""``solar-euv prepare``: SDO FITS files -> TFRecord training set with a manifest."""
import os
import pathlib

import click

from solar_euv.cli.base import SolarEUVCommand
from solar_euv.cli.options import image_size_option, passbands_option, verbosity_options

__all__ = ["command", "find_fits_files"]

FITS_SUFFIXES = (".fits", ".fts", ".fit", ".fits.gz", ".fits.fz", ".fts.gz")


def find_fits_files(raw_dir):
    """Sorted FITS files under ``raw_dir`` (recursively, by suffix)."""
    found = []
    for folder, _, names in os.walk(raw_dir):
        found.extend(pathlib.Path(folder, n) for n in names
                     if n.lower().endswith(FITS_SUFFIXES) and not n.startswith("."))
    return sorted(found)


def _correction_table(ctx, param, value):
    if value is None:
        return None
    if value.lower() == "jsoc":
        return "jsoc"
    if not os.path.isfile(value):
        raise click.BadParameter(f"'jsoc' or an existing table file; {value!r} is neither")
    return value


def _describe(path):
    """Kind and time of one file from its header (no data read), after validating it.

    Raises :class:`~solar_euv.exceptions.InputError` for anything
    :func:`solar_euv.sdo.io.validate_header` (SDO) or
    :func:`solar_euv.sdo.magnetograms.magnetogram_instrument` (MDI, GONG)
    refuses, or a missing time.
    """
    from solar_euv.exceptions import InputError
    from solar_euv.sdo import io, magnetograms, pairing
    from solar_euv.sdo.pairing import SourceFile

    header = io.read_header(path)
    if magnetograms.is_sdo(header):
        kind, _ = io.validate_header(header, path)   # QUALITY warnings: when read
        time = io.observation_time(header)
    else:       # SOHO/MDI or NSO/GONG: a magnetogram, made HMI-equivalent when prepared
        magnetograms.magnetogram_instrument(header, path)
        kind, time = pairing.HMI_KIND, magnetograms.magnetogram_time(header)
    if time is None:
        raise InputError(path, "has no readable observation time (T_OBS or DATE-OBS)",
                         category="header")
    return SourceFile(kind, time.utc.isot + "Z", str(path))


class _DropMagnetogram(Exception):
    """A magnetogram failed while preparing: pair again without it."""


def _instruments(observations):
    """Magnetogram instruments used and their cross-calibration (for manifest.json)."""
    from solar_euv.sdo import io, magnetograms

    counts = {}
    for obs in observations:
        header = io.read_header(obs.sources["hmi"])
        name = "hmi" if magnetograms.is_sdo(header) \
            else magnetograms.magnetogram_instrument(header, obs.sources["hmi"])
        counts[name] = counts.get(name, 0) + 1
    calibration = {name: {"factor": c.factor, "reference": c.reference, "doi": c.doi}
                   for name, c in magnetograms.CROSS_CALIBRATION.items() if name in counts}
    return {"instruments": counts, "cross_calibration": calibration}


@click.command("prepare", cls=SolarEUVCommand)
@click.argument("raw_dir", type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=pathlib.Path))
@image_size_option(default=1024, maximum=4096, alias="--size",
                   help_text="Side of the common grid in pixels, a power of two from 64 to "
                             "4096 (solar radius 392*N/1024).")
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
@click.option("--shard-size", type=click.IntRange(1, 4096), default=128, show_default=True,
              help="Target shard size in MiB (at least 16 shards per split when possible).")
@click.option("--strict", is_flag=True,
              help="Stop at the first unusable file (default: skip it, say so and list it "
                   "in manifest.json).")
@click.option("--retry-skipped", is_flag=True,
              help="Read again the files an earlier run into OUT_DIR skipped (by default "
                   "an unchanged file skipped before is skipped again without reading it).")
@verbosity_options
def command(raw_dir, out_dir, image_size, splits_spec, passbands, tolerance, workers,
            correction_table, shard_size, strict, retry_skipped, verbose, quiet):
    """Prepare the SDO files in RAW_DIR as TFRecord shards and manifest.json in OUT_DIR.

    Each magnetogram (identified by its header, not its name: SDO/HMI, or
    SOHO/MDI and NSO/GONG made HMI-equivalent, see `solar-euv predict`) is paired
    with the nearest image of every passband within the tolerance; missing
    passbands are recorded.  Files are calibrated onto the common grid
    (north up, centred, radius 392*N/1024 px for --image-size N; AIA in DN/s, degradation
    corrected; HMI in Gauss) and stored as float16 physical units, one
    record per observation, in <split>-NNNNN-of-NNNNN.tfrecord shards.  An
    interrupted run leaves only whole shards; running it again continues.

    An unusable file (unreadable, a cutout, another product, a fatal QUALITY
    bit, a date the correction table cannot correct) is skipped with one
    warning line: a skipped AIA image leaves its passband missing, a
    skipped magnetogram drops its observation.  manifest.json lists every
    skipped file and why; a rerun skips them again without reading them
    (--retry-skipped reads them again).  --strict stops at the first.

    Example: ``solar-euv prepare raw/ data/ --image-size 1024 --workers 8``
    """
    import warnings

    from tqdm.auto import tqdm

    from solar_euv.dataset.skipped import SkipLedger, summary
    from solar_euv.exceptions import InputError, SolarEUVWarning
    from solar_euv.passbands import HMI
    from solar_euv.sdo.calibration import correction_table_info
    from solar_euv.sdo.pairing import (assign_splits, format_time, pair_files, parse_splits,
                                       parse_tolerance)

    progress = quiet == 0
    ranges = parse_splits(splits_spec)
    chosen = passbands
    tolerance = parse_tolerance(tolerance)
    if correction_table == "jsoc":
        from solar_euv.sdo.jsoc_table import fetch_correction_table

        table = correction_table_info(fetch_correction_table())
        table["source"] = "JSOC aia.response (aiapy get_correction_table)"
    else:
        table = correction_table_info(correction_table)
        table["source"] = "file" if correction_table else "shipped with solar_euv"

    files = find_fits_files(raw_dir)
    if not files:
        raise InputError(raw_dir, "holds no FITS files (*.fits, *.fts, *.fits.gz)")
    root = raw_dir.resolve()
    ledger = SkipLedger(out_dir, root, retry=retry_skipped)

    def skip(error, stage):
        """Stop (--strict), or record the file and say so in one line."""
        if strict:
            raise error
        ledger.add(error, stage)
        warnings.warn(f"skipped {error}", SolarEUVWarning, stacklevel=2)

    # Files refused from their headers are left out before pairing; files that
    # fail later keep their place (an AIA passband is then missing) so that a
    # rerun, which does not read them again, pairs exactly as this run did.
    described, failed = [], set()
    for path in tqdm(files, desc="scan", unit="file", disable=not progress, leave=False):
        stage = None if strict else ledger.known(path)
        if stage == "scan":
            continue
        try:
            described.append(_describe(path))
        except InputError as error:
            skip(error, "scan")
            continue
        if stage == "prepare":
            failed.add(str(path))

    def on_error(error, channel):
        skip(error, "prepare")
        failed.add(error.path)
        if channel == HMI.name:
            raise _DropMagnetogram(error.path)

    shown = set()
    while True:
        usable = [f for f in described if f.path not in failed or f.kind != HMI.name]
        pairing = pair_files(usable, chosen, tolerance)
        if not pairing.observations:
            raise InputError(raw_dir, f"holds no usable HMI magnetogram among its {len(files)} "
                                      "FITS files")
        assigned = assign_splits(pairing.observations, ranges)
        if not any(assigned.splits.values()):
            spans = ", ".join(f"{r.name} {r.start}..{r.end}" for r in ranges)
            first, last = pairing.observations[0].time, pairing.observations[-1].time
            raise InputError(raw_dir, f"has no magnetogram within the split ranges ({spans}); "
                                      f"its magnetograms span {first} to {last}: give --splits")
        try:
            manifest = _build(assigned, pairing, out_dir, root, image_size, chosen, tolerance,
                              table, ranges, shard_size, progress, workers, shown,
                              on_error, failed, ledger)
            break
        except _DropMagnetogram:
            continue                       # pair again without that magnetogram

    if quiet < 2:
        parts = [f"{name} {entry['examples']} in {len(entry['shards'])}"
                 for name, entry in manifest["splits"].items()]
        click.echo(f"{out_dir}: observations in shards: {', '.join(parts)} ({image_size} px)")
        lacking = {p: n for p, n in pairing.missing_counts().items() if n}
        if lacking:
            click.echo("missing within " + f"{tolerance:g}: "
                       + ", ".join(f"{p} in {n}" for p, n in lacking.items()))
        if assigned.outside:
            click.echo(f"{len(assigned.outside)} magnetogram(s) outside every split range "
                       f"(first {format_time(assigned.outside[0].time)})")
        if manifest["skipped"]:
            click.echo(summary(manifest["skipped"]))


def _build(assigned, pairing, out_dir, root, size, chosen, tolerance, table, ranges,
           shard_size, progress, workers, shown, on_error, failed, ledger):
    """Calibrate the paired files and write the shards and manifest (one attempt)."""
    from solar_euv.dataset.build import build_dataset  # TensorFlow: only once inputs known
    from solar_euv.passbands import HMI
    from solar_euv.sdo import batch

    def load(paths):
        return batch.prepare_files(paths, size, workers=workers, progress=progress,
                                  correction_table=table["path"], on_error="return",
                                  shown=shown)

    rel = (lambda p: os.path.relpath(p, root))
    metadata = {
        "calibration": {"correction_table": {k: table[k] for k in ("name", "sha256", "source")},
                        "degradation": True, "interpolation": "cubic spline",
                        "module": "solar_euv.sdo.prep"},
        "pairing": {"tolerance_s": float(tolerance.to_value("s")),
                    "passbands": list(chosen),
                    "magnetograms": len(pairing.observations),
                    "missing": pairing.missing_counts(),
                    "outside_splits": [o.time for o in assigned.outside],
                    "unused_files": [rel(f.path) for f in pairing.unused]},
        "magnetograms": _instruments(pairing.observations),
        "skipped": ledger.entries,
    }
    return build_dataset(
        assigned.splits, out_dir, load=load, size=size, channels=(HMI.name,) + chosen,
        source_root=root, shard_bytes=shard_size * 2 ** 20,
        identity={"correction_table": table["sha256"], "degradation": True, "order": 3},
        split_info={r.name: r.to_dict() for r in ranges}, metadata=metadata,
        progress=progress, on_error=on_error, exclude=failed)
