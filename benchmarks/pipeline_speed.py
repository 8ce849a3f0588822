"""Input-pipeline throughput: examples/s that ``make_dataset`` delivers from TFRecord shards.

Writes synthetic observations (a magnetogram and all nine passbands, float16,
as ``solar-euv prepare`` stores them) to shards in a temporary directory with
:func:`solar_euv.dataset.build_dataset`, then times the training pipeline
(shuffle, decode, scale, mask, shake, batch 1) for a one-passband and a
nine-passband target.  The shards sit in the page cache after writing, so the
figures are the CPU cost of the pipeline, not the disk's.

Usage::

    python benchmarks/pipeline_speed.py                  # 256 and 1024 px
    python benchmarks/pipeline_speed.py --sizes 256 --seconds 5

Prints a markdown table.  ``python -m benchmarks run`` measures the same
through :func:`measure_pipeline` and compares it with the training step rate
of the same run (:func:`compare_with_training`).
"""
import argparse
import os
import pathlib
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from solar_euv.dataset import build_dataset, make_dataset  # noqa: E402
from solar_euv.dataset.records import CHANNELS  # noqa: E402
from solar_euv.scaling import disk_mask  # noqa: E402
from solar_euv.sdo.pairing import Observation  # noqa: E402

__all__ = ["synthetic_dataset", "examples_per_second", "default_examples",
           "measure_pipeline", "compare_with_training", "pipeline_markdown", "main"]

#: Target passbands measured: one passband and all nine.
PASSBANDS = ("171", "all")


def synthetic_dataset(root, size, count):
    """Write shards of synthetic observations.

    Parameters
    ----------
    root : pathlib.Path
        Directory to create; the raw placeholders go to ``root/raw`` and the
        shards to ``root/data``.
    size : int
        Image side in pixels.
    count : int
        Observations written (all in the ``train`` split).

    Returns
    -------
    pathlib.Path
        The dataset directory (``root/data``).
    """
    raw = root / "raw"
    raw.mkdir(parents=True)
    observations = []
    for i in range(count):
        time_ = f"2012-01-{1 + i // 4:02d}T{(i % 4) * 6:02d}:00:00Z"
        sources = {}
        for ch in CHANNELS:
            path = raw / f"{ch}-{i}.src"
            path.write_text(f"{ch} {i}\n")
            sources[ch] = str(path)
        observations.append(Observation(time_, sources, {c: time_ for c in sources}))
    disk = disk_mask(size)

    def load(paths):
        for p in paths:
            ch, i = pathlib.Path(p).stem.rsplit("-", 1)
            rng = np.random.default_rng(int(i) * 17 + CHANNELS.index(ch))
            if ch == "hmi":
                yield np.where(disk, rng.normal(0, 150, (size, size)), 0).astype(np.float32)
            else:
                yield rng.lognormal(5, 1.5, (size, size)).astype(np.float32)

    out = root / "data"
    build_dataset({"train": observations}, out, load=load, size=size, progress=False,
                  source_root=raw)
    return out


def examples_per_second(path, passbands, seconds, warmup=5):
    """Examples per second of the training pipeline over the dataset at ``path``.

    Parameters
    ----------
    path : pathlib.Path
        Dataset directory written by :func:`synthetic_dataset`.
    passbands : str
        Target passbands (``"171"`` or ``"all"``).
    seconds : float
        Timed duration.
    warmup : int
        Untimed examples first (building the pipeline, filling its buffers).

    Returns
    -------
    float
    """
    ds = make_dataset(path, "train", passbands, batch_size=1, training=True, repeat=-1)
    it = iter(ds)
    for _ in range(warmup):
        next(it)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        next(it)
        n += 1
    return n / (time.perf_counter() - start)


def default_examples(size):
    """Observations written per size by default: 128 up to 256 px, 24 above."""
    return 128 if size <= 256 else 24


def measure_pipeline(sizes=(256, 1024), examples=None, seconds=5.0, passbands=PASSBANDS,
                     warmup=5, root=None, echo=None):
    """Examples/s of the training input pipeline from synthetic TFRecord shards.

    Parameters
    ----------
    sizes : sequence of int
        Image sides in pixels.
    examples : int, optional
        Observations written per size (default: :func:`default_examples`).
    seconds : float
        Timed seconds per measurement.
    passbands : sequence of str
        Targets measured at every size (``"171"``: one passband, ``"all"``:
        nine).
    warmup : int
        Untimed examples before each measurement.
    root : str or os.PathLike, optional
        Existing directory for the shards (one sub-directory per size);
        default: a temporary directory, removed afterwards.
    echo : callable, optional
        Called with a progress line after each measurement.

    Returns
    -------
    list of dict
        One row per size and target: ``size``, ``passbands``,
        ``target_channels``, ``target`` (a label), ``examples_written``,
        ``record_mib`` (one record: ten float16 channels), ``seconds``
        (timed), ``examples_per_s`` and ``mib_per_s``.
    """
    if root is None:
        with tempfile.TemporaryDirectory(prefix="pipeline-speed-") as tmp:
            return measure_pipeline(sizes, examples, seconds, passbands, warmup, tmp, echo)
    rows = []
    for size in sizes:
        count = examples or default_examples(size)
        path = synthetic_dataset(pathlib.Path(root) / f"pipeline-{size}", size, count)
        record_mib = 2 * size * size * len(CHANNELS) / 2 ** 20
        for bands in passbands:
            rate = examples_per_second(path, bands, seconds, warmup=warmup)
            channels = 9 if bands == "all" else len(bands.split(","))
            rows.append({"size": size, "passbands": bands, "target_channels": channels,
                         "target": f"{channels} ({bands})", "examples_written": count,
                         "record_mib": record_mib, "seconds": seconds,
                         "examples_per_s": rate, "mib_per_s": rate * record_mib})
            if echo is not None:
                echo(f"  pipeline {size} px, target {bands}: {rate:.1f} examples/s")
    return rows


def compare_with_training(rows, training_rows, model="B"):
    """Add the training step rate of the same size and the ratio to each pipeline row.

    The reference is the ``project`` row in float32 at the same image size,
    preferably of ``model`` with batch 1 and without XLA (else another model,
    batch or XLA setting of that size).  Its ``images_per_s`` is the rate at
    which training consumes examples.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`measure_pipeline`; changed in place.
    training_rows : list of dict
        ``rows`` of :func:`benchmarks.train_speed.run_benchmark`.
    model : str
        Preferred model.

    Returns
    -------
    list of dict
        ``rows``, each with ``training_key``, ``training_images_per_s`` and
        ``vs_training`` (examples/s over images/s), all None where training
        did not run that size in float32.
    """
    candidates = [r for r in training_rows
                  if r.get("loop") == "project" and r.get("precision") == "float32"]
    for row in rows:
        same = [r for r in candidates if r["size"] == row["size"]]
        same.sort(key=lambda r: (r["model"] != model, r["batch"] != 1, bool(r["xla"])))
        ref = same[0] if same else None
        row["training_key"] = ref["key"] if ref else None
        row["training_images_per_s"] = ref["images_per_s"] if ref else None
        row["vs_training"] = (row["examples_per_s"] / ref["images_per_s"]) if ref else None
    return rows


def pipeline_markdown(rows):
    """Markdown table of :func:`measure_pipeline` rows (with the training columns if set).

    Parameters
    ----------
    rows : list of dict

    Returns
    -------
    str
        Table lines, no trailing newline; ``n/a`` where no training rate of
        that size was measured.
    """
    lines = ["| px | target passbands | record (MiB) | examples/s | MiB/s read "
             "| training images/s | pipeline / training | training configuration |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        train = r.get("training_images_per_s")
        ratio = r.get("vs_training")
        lines.append(
            f"| {r['size']} | {r['target']} | {r['record_mib']:.1f} | "
            f"{r['examples_per_s']:.1f} | {r['mib_per_s']:.0f} | "
            f"{'n/a' if train is None else f'{train:.2f}'} | "
            f"{'n/a' if ratio is None else f'{ratio:.1f}x'} | "
            f"{r.get('training_key') or 'n/a'} |")
    return "\n".join(lines)


def main(argv=None):
    """Command line: measure and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--examples", type=int, default=None,
                        help="observations written per size (default: 128 at 256, 24 at 1024)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="timed seconds per measurement")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows = measure_pipeline(args.sizes, args.examples, args.seconds)
    if args.json:
        import json

        pathlib.Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    print(f"pipeline throughput, {os.cpu_count()} CPU cores, batch 1, training=True "
          "(shuffle + decode + scale + mask + shake)\n")
    print("| size | target passbands | record (MiB) | examples/s | MiB/s read |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['size']} | {r['target']} | {r['record_mib']:.1f} | "
              f"{r['examples_per_s']:.1f} | {r['mib_per_s']:.0f} |")


if __name__ == "__main__":
    main()
