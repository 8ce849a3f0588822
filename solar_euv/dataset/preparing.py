"""Prepare a directory of SDO FITS files as TFRecord shards and ``manifest.json``.

:func:`prepare_directory` is what ``solar-euv prepare`` runs and what
training runs on the embedded synthetic sample the first time it is used.
It scans the files' headers, pairs each magnetogram with the nearest image
of every passband, assigns the observations to the date-range splits,
calibrates the files onto the common grid (:mod:`solar_euv.sdo`) and writes
the shards (:func:`solar_euv.dataset.build.build_dataset`).  An unusable file
is skipped with one warning line and recorded
(:class:`~solar_euv.dataset.skipped.SkipLedger`), or stops the preparation
when ``strict``.
"""
import contextlib
import dataclasses
import os
import pathlib
import warnings

__all__ = ["FITS_SUFFIXES", "Preparation", "describe_file", "find_fits_files",
           "prepare_directory"]

FITS_SUFFIXES = (".fits", ".fts", ".fit", ".fits.gz", ".fits.fz", ".fts.gz")


def find_fits_files(raw_dir):
    """Sorted FITS files under ``raw_dir`` (recursively, by suffix)."""
    found = []
    for folder, _, names in os.walk(raw_dir):
        found.extend(pathlib.Path(folder, n) for n in names
                     if n.lower().endswith(FITS_SUFFIXES) and not n.startswith("."))
    return sorted(found)


def describe_file(path):
    """Kind and time of one file from its header (no data read), after validating it.

    Raises :class:`~solar_euv.exceptions.InputError` for anything
    :func:`solar_euv.sdo.io.validate_header` (SDO) or
    :func:`solar_euv.sdo.magnetogram_kind.magnetogram_instrument` (MDI, GONG)
    refuses, or a missing time.

    Returns
    -------
    solar_euv.sdo.pairing.SourceFile
    """
    from solar_euv.exceptions import InputError
    from solar_euv.sdo import io, magnetogram_kind, pairing
    from solar_euv.sdo.pairing import SourceFile

    header = io.read_header(path)
    if magnetogram_kind.is_sdo(header):
        kind, _ = io.validate_header(header, path)   # QUALITY warnings: when read
        time = io.observation_time(header)
    else:       # SOHO/MDI or NSO/GONG: a magnetogram, made HMI-equivalent when prepared
        magnetogram_kind.magnetogram_instrument(header, path)
        kind, time = pairing.HMI_KIND, magnetogram_kind.magnetogram_time(header)
    if time is None:
        raise InputError(path, "has no readable observation time (T_OBS or DATE-OBS)",
                         category="header")
    return SourceFile(kind, time.utc.isot + "Z", str(path))


@dataclasses.dataclass
class Preparation:
    """What :func:`prepare_directory` wrote and paired.

    Attributes
    ----------
    out_dir : pathlib.Path
        The prepared dataset.
    size : int
        Side of the common grid in pixels.
    manifest : dict
        The content of ``manifest.json``.
    pairing : solar_euv.sdo.pairing.PairingResult
        The magnetograms paired with their passbands.
    assigned : solar_euv.sdo.splits.SplitAssignment
        The observations of each split, and those outside every range.
    tolerance : astropy.units.Quantity
        Largest time difference of a pair.
    """

    out_dir: pathlib.Path
    size: int
    manifest: dict
    pairing: object
    assigned: object
    tolerance: object

    def summary_lines(self):
        """The lines ``solar-euv prepare`` prints at the end (shards, missing, skipped).

        Returns
        -------
        list of str
        """
        from solar_euv.dataset.skipped import summary
        from solar_euv.sdo.times import format_time

        parts = [f"{name} {entry['examples']} in {len(entry['shards'])}"
                 for name, entry in self.manifest["splits"].items()]
        lines = [f"{self.out_dir}: observations in shards: {', '.join(parts)} "
                 f"({self.size} px)"]
        lacking = {p: n for p, n in self.pairing.missing_counts().items() if n}
        if lacking:
            lines.append("missing within " + f"{self.tolerance:g}: "
                         + ", ".join(f"{p} in {n}" for p, n in lacking.items()))
        outside = self.assigned.outside
        if outside:
            lines.append(f"{len(outside)} magnetogram(s) outside every split range "
                         f"(first {format_time(outside[0].time)})")
        if self.manifest["skipped"]:
            lines.append(summary(self.manifest["skipped"]))
        return lines


class _DropMagnetogram(Exception):
    """A magnetogram failed while preparing: pair again without it."""


def _instruments(observations):
    """Magnetogram instruments used and their cross-calibration (for manifest.json)."""
    from solar_euv.sdo import io, magnetogram_kind, magnetograms

    counts = {}
    for obs in observations:
        header = io.read_header(obs.sources["hmi"])
        name = "hmi" if magnetogram_kind.is_sdo(header) \
            else magnetogram_kind.magnetogram_instrument(header, obs.sources["hmi"])
        counts[name] = counts.get(name, 0) + 1
    calibration = {name: {"factor": c.factor, "reference": c.reference, "doi": c.doi}
                   for name, c in magnetograms.CROSS_CALIBRATION.items() if name in counts}
    return {"instruments": counts, "cross_calibration": calibration}


def _correction_table(correction_table):
    """The degradation table's record: ``None`` (shipped), a file, or ``"jsoc"``."""
    from solar_euv.sdo.calibration import correction_table_info

    if correction_table == "jsoc":
        from solar_euv.sdo.jsoc_table import fetch_correction_table

        table = correction_table_info(fetch_correction_table())
        table["source"] = "JSOC aia.response (aiapy get_correction_table)"
    else:
        table = correction_table_info(correction_table)
        table["source"] = "file" if correction_table else "shipped with solar_euv"
    return table


def _check_pointing(pointing):
    """Refuse a ``pointing`` other than ``"header"`` or ``"jsoc"``."""
    from solar_euv.exceptions import SolarEUVError
    from solar_euv.sdo import pointing as mpt

    if pointing not in (mpt.HEADER, mpt.JSOC):
        raise SolarEUVError(f"the pointing must be 'header' or 'jsoc'; received {pointing!r}")


def _pointing(pointing, described, chosen):
    """The pointing's record: ``{"source": "header"}``, or the JSOC table fetched for
    the months of the AIA files (its ``path`` is for the workers, not the manifest)."""
    from solar_euv.sdo import pointing as mpt

    if pointing == mpt.HEADER:
        return {"source": mpt.HEADER}
    record = {"source": f"JSOC {mpt.SERIES} (aiapy get_pointing_table)"}
    times = [f.time for f in described if f.kind in chosen]
    if times:
        record.update(mpt.pointing_table_info(mpt.fetch_pointing_table(times)))
    return record


def prepare_directory(raw_dir, out_dir, *, size=1024, splits="paper", passbands="all",
                      tolerance="6min", workers=None, correction_table=None, shard_size=128,
                      strict=False, retry_skipped=False, progress=True, scheduler=None,
                      pointing="header"):
    """Prepare the SDO files in ``raw_dir`` as TFRecord shards and manifest.json in ``out_dir``.

    Parameters
    ----------
    raw_dir, out_dir : str or os.PathLike
        Directory of FITS files (searched recursively); output directory.
        An interrupted preparation leaves only whole shards; running it
        again continues.
    size : int
        Side of the common grid in pixels (solar radius 392*size/1024).
    splits : str
        Date ranges (:func:`solar_euv.sdo.splits.parse_splits`), e.g.
        ``"paper"``.
    passbands : str or sequence of str
        AIA passbands to pair and store, comma-separated, or ``"all"``.
    tolerance : str
        Largest time difference between a magnetogram and its AIA image.
    workers : int, optional
        Processes preparing files in parallel (default: the number of CPUs).
    correction_table : str, optional
        AIA degradation table file, ``"jsoc"``, or None for the shipped one.
    shard_size : int
        Target shard size in MiB.
    strict : bool
        Stop at the first unusable file instead of skipping and recording it.
    retry_skipped : bool
        Read again the files an earlier run into ``out_dir`` skipped.
    progress : bool
        Show progress bars.
    scheduler : str or distributed.Client, optional
        Prepare the files as tasks on a Dask cluster: ``"local:N"`` (``N``
        worker processes on this machine), the address of a running
        scheduler (:mod:`solar_euv.sdo.cluster`; needs the ``dask`` extra),
        or a client the caller already holds (left open).  The shards are
        the same as without; ``workers`` is then unused.
    pointing : {"header", "jsoc"}
        AIA pointing: the FITS header's, or JSOC's master pointing table
        (:mod:`solar_euv.sdo.pointing`), fetched once for the months of the
        AIA files (or taken from the cache) and applied to level-1 images.

    Returns
    -------
    Preparation

    Raises
    ------
    solar_euv.exceptions.InputError
        No FITS file, no usable magnetogram, none within the splits, or
        (``strict``) the first unusable file.
    """
    from tqdm.auto import tqdm

    from solar_euv.dataset.skipped import SkipLedger
    from solar_euv.exceptions import InputError, SolarEUVWarning
    from solar_euv.passbands import HMI, parse_passbands
    from solar_euv.sdo.splits import parse_splits
    from solar_euv.sdo.times import parse_tolerance

    raw_dir, out_dir = pathlib.Path(raw_dir), pathlib.Path(out_dir)
    if isinstance(scheduler, str):
        from solar_euv.sdo.cluster import parse_scheduler

        parse_scheduler(scheduler)              # a bad value fails before any work
    workers = workers or os.cpu_count() or 1
    ranges = parse_splits(splits)
    chosen = parse_passbands([passbands] if isinstance(passbands, str) else list(passbands))
    tolerance = parse_tolerance(tolerance)
    table = _correction_table(correction_table)
    _check_pointing(pointing)                   # a bad value fails before any work

    files = find_fits_files(raw_dir)
    if not files:
        raise InputError(raw_dir, "holds no FITS files (*.fits, *.fts, *.fits.gz)")
    root = raw_dir.resolve()
    ledger = SkipLedger(out_dir, root, retry=retry_skipped)

    def skip(error, stage):
        """Stop (strict), or record the file and say so in one line."""
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
            described.append(describe_file(path))
        except InputError as error:
            skip(error, "scan")
            continue
        if stage == "prepare":
            failed.add(str(path))

    calibration = {"correction_table": table, "pointing": _pointing(pointing, described, chosen)}

    def on_error(error, channel):
        skip(error, "prepare")
        failed.add(error.path)
        if channel == HMI.name:
            raise _DropMagnetogram(error.path)

    shown = set()
    with contextlib.ExitStack() as stack:
        client = None
        if isinstance(scheduler, str):
            from solar_euv.sdo.cluster import dask_client

            client = stack.enter_context(dask_client(scheduler))
        elif scheduler is not None:
            client = scheduler                  # a distributed.Client of the caller
        manifest, pairing, assigned = _pair_and_build(
            raw_dir, out_dir, root, files, described, failed, chosen, tolerance, ranges,
            size, calibration, shard_size, progress, workers, shown, on_error, ledger, client)
    return Preparation(out_dir, size, manifest, pairing, assigned, tolerance)


def _pair_and_build(raw_dir, out_dir, root, files, described, failed, chosen, tolerance,
                    ranges, size, calibration, shard_size, progress, workers, shown, on_error,
                    ledger, client):
    """Pair, split and build; pair again without a magnetogram that failed."""
    from solar_euv.exceptions import InputError
    from solar_euv.passbands import HMI
    from solar_euv.sdo.pairing import pair_files
    from solar_euv.sdo.splits import assign_splits

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
            manifest = _build(assigned, pairing, out_dir, root, size, chosen, tolerance,
                              calibration, ranges, shard_size, progress, workers, shown,
                              on_error, failed, ledger, client)
            return manifest, pairing, assigned
        except _DropMagnetogram:
            continue                       # pair again without that magnetogram


def _build(assigned, pairing, out_dir, root, size, chosen, tolerance, calibration, ranges,
           shard_size, progress, workers, shown, on_error, failed, ledger, client=None):
    """Calibrate the paired files and write the shards and manifest (one attempt)."""
    from solar_euv.dataset.build import build_dataset
    from solar_euv.passbands import HMI
    from solar_euv.sdo import batch

    table, pointing = calibration["correction_table"], calibration["pointing"]

    def load(paths):
        return batch.prepare_files(paths, size, workers=workers, progress=progress,
                                   correction_table=table["path"], on_error="return",
                                   shown=shown, client=client,
                                   pointing_table=pointing.get("path"))

    rel = (lambda p: os.path.relpath(p, root))
    metadata = {
        "calibration": {"correction_table": {k: table[k] for k in ("name", "sha256", "source")},
                        "degradation": True, "interpolation": "cubic spline",
                        "pointing": {k: v for k, v in pointing.items() if k != "path"},
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
        identity={"correction_table": table["sha256"], "degradation": True, "order": 3,
                  "pointing": pointing.get("sha256", pointing["source"])},
        split_info={r.name: r.to_dict() for r in ranges}, metadata=metadata,
        progress=progress, on_error=on_error, exclude=failed)
