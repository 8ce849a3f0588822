"""``solar-euv prepare``: SDO FITS files -> TFRecord training set with a manifest."""
import os
import pathlib

import click

from solar_euv.cli.base import verbosity_options

__all__ = ["command", "find_fits_files"]

FITS_SUFFIXES = (".fits", ".fts", ".fit", ".fits.gz", ".fits.fz", ".fts.gz")


def find_fits_files(raw_dir):
    """Sorted FITS files under ``raw_dir`` (recursively, by suffix)."""
    found = []
    for folder, _, names in os.walk(raw_dir):
        found.extend(pathlib.Path(folder, n) for n in names
                     if n.lower().endswith(FITS_SUFFIXES) and not n.startswith("."))
    return sorted(found)


def _size(ctx, param, value):
    if value < 64 or value > 4096 or value & (value - 1):
        raise click.BadParameter(f"must be a power of two from 64 to 4096; received {value}")
    return value


def _describe(path):
    """Kind and time of one file from its header (no data read)."""
    from solar_euv.exceptions import InputError
    from solar_euv.sdo import io, pairing
    from solar_euv.sdo.pairing import SourceFile

    from solar_euv.sdo import magnetograms

    header = io.read_header(path)
    if magnetograms.is_sdo(header):
        kind, time = io.detect_kind(header, path), io.observation_time(header)
    else:       # SOHO/MDI or NSO/GONG: a magnetogram, made HMI-equivalent when prepared
        magnetograms.magnetogram_instrument(header, path)
        kind, time = pairing.HMI_KIND, magnetograms.magnetogram_time(header)
    if time is None:
        raise InputError(path, "has no readable observation time (T_OBS or DATE-OBS)")
    return SourceFile(kind, time.utc.isot + "Z", str(path))


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


@click.command("prepare")
@click.argument("raw_dir", type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=pathlib.Path))
@click.option("--size", type=int, default=1024, show_default=True, callback=_size,
              help="Side of the common grid in pixels (solar radius 392*size/1024).")
@click.option("--splits", "splits_spec", default="paper", show_default=True,
              help="Date ranges: NAME=START:END,... (e.g. train=2011-01-01:2016-12-31,"
                   "validation=2017-01:2017-06; ends inclusive), a JSON file, or "
                   "'paper' for train 2011-2016, validation 2017-01..06, test 2017-07..12.")
@click.option("--passbands", default="all", show_default=True,
              help="AIA passbands to pair and store, comma-separated, or 'all'.")
@click.option("--tolerance", default="6min", show_default=True,
              help="Largest time difference between a magnetogram and its AIA image "
                   "(a duration with a unit: 6min, 360s).")
@click.option("--workers", type=click.IntRange(1, 256), default=os.cpu_count() or 1,
              show_default="number of CPUs", help="Processes preparing files in parallel.")
@click.option("--correction-table", type=click.Path(exists=True, dir_okay=False),
              default=None, help="AIA degradation correction table "
                                 "(default: the V8 table shipped with the package).")
@click.option("--shard-size", type=click.IntRange(1, 4096), default=128, show_default=True,
              help="Target shard size in MiB (at least 16 shards per split when possible).")
@verbosity_options
def command(raw_dir, out_dir, size, splits_spec, passbands, tolerance, workers,
            correction_table, shard_size, verbose, quiet):
    """Prepare the SDO files in RAW_DIR as TFRecord shards and manifest.json in OUT_DIR.

    Each magnetogram (identified by its header, not its name: SDO/HMI, or
    SOHO/MDI and NSO/GONG made HMI-equivalent, see `solar-euv predict`) is paired
    with the nearest image of every passband within the tolerance; missing
    passbands are recorded.  Files are calibrated onto the common grid
    (north up, centred, radius 392*size/1024 px; AIA in DN/s, degradation
    corrected; HMI in Gauss) and stored as float16 physical units, one
    record per observation, in <split>-NNNNN-of-NNNNN.tfrecord shards.  An
    interrupted run leaves only whole shards; running it again continues.

    Example: ``solar-euv prepare raw/ data/ --size 1024 --workers 8``
    """
    from tqdm.auto import tqdm

    from solar_euv.exceptions import InputError
    from solar_euv.passbands import HMI, parse_passbands
    from solar_euv.sdo import prep
    from solar_euv.sdo.calibration import correction_table_info
    from solar_euv.sdo.pairing import (assign_splits, format_time, pair_files, parse_splits,
                                       parse_tolerance)

    progress = quiet == 0
    ranges = parse_splits(splits_spec)
    chosen = parse_passbands([passbands])
    tolerance = parse_tolerance(tolerance)
    table = correction_table_info(correction_table)

    files = find_fits_files(raw_dir)
    if not files:
        raise InputError(raw_dir, "holds no FITS files (*.fits, *.fts, *.fits.gz)")
    described = [_describe(p) for p in tqdm(files, desc="scan", unit="file",
                                            disable=not progress, leave=False)]
    pairing = pair_files(described, chosen, tolerance)
    if not pairing.observations:
        raise InputError(raw_dir, f"holds no HMI magnetogram among its {len(files)} "
                                  "FITS files")
    assigned = assign_splits(pairing.observations, ranges)
    if not any(assigned.splits.values()):
        spans = ", ".join(f"{r.name} {r.start}..{r.end}" for r in ranges)
        first, last = pairing.observations[0].time, pairing.observations[-1].time
        raise InputError(raw_dir, f"has no magnetogram within the split ranges ({spans}); "
                                  f"its magnetograms span {first} to {last}: give --splits")

    from solar_euv.dataset.build import build_dataset  # TensorFlow: only once inputs are known

    def load(paths):
        return prep.prepare_files(paths, size, workers=workers, progress=progress,
                                  correction_table=table["path"])

    root = raw_dir.resolve()
    rel = (lambda p: os.path.relpath(p, root))
    metadata = {
        "calibration": {"correction_table": {"name": table["name"], "sha256": table["sha256"]},
                        "degradation": True, "interpolation": "cubic spline",
                        "module": "solar_euv.sdo.prep"},
        "pairing": {"tolerance_s": float(tolerance.to_value("s")),
                    "passbands": list(chosen),
                    "magnetograms": len(pairing.observations),
                    "missing": pairing.missing_counts(),
                    "outside_splits": [o.time for o in assigned.outside],
                    "unused_files": [rel(f.path) for f in pairing.unused]},
        "magnetograms": _instruments(pairing.observations),
    }
    manifest = build_dataset(
        assigned.splits, out_dir, load=load, size=size, channels=(HMI.name,) + chosen,
        source_root=root, shard_bytes=shard_size * 2 ** 20,
        identity={"correction_table": table["sha256"], "degradation": True, "order": 3},
        split_info={r.name: r.to_dict() for r in ranges}, metadata=metadata,
        progress=progress)

    if quiet < 2:
        parts = [f"{name} {entry['examples']} in {len(entry['shards'])}"
                 for name, entry in manifest["splits"].items()]
        click.echo(f"{out_dir}: observations in shards: {', '.join(parts)} ({size} px)")
        lacking = {p: n for p, n in pairing.missing_counts().items() if n}
        if lacking:
            click.echo("missing within " + f"{tolerance:g}: "
                       + ", ".join(f"{p} in {n}" for p, n in lacking.items()))
        if assigned.outside:
            click.echo(f"{len(assigned.outside)} magnetogram(s) outside every split range "
                       f"(first {format_time(assigned.outside[0].time)})")
