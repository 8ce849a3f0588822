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

Prints a markdown table.
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


def synthetic_dataset(root, size, count):
    """Shards of ``count`` synthetic observations at ``size`` px under ``root``."""
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
    ds = make_dataset(path, "train", passbands, batch_size=1, training=True, repeat=-1)
    it = iter(ds)
    for _ in range(warmup):
        next(it)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        next(it)
        n += 1
    return n / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--examples", type=int, default=None,
                        help="observations written per size (default: 128 at 256, 24 at 1024)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="timed seconds per measurement")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pipeline-speed-") as tmp:
        for size in args.sizes:
            count = args.examples or (128 if size <= 256 else 24)
            path = synthetic_dataset(pathlib.Path(tmp) / str(size), size, count)
            record_mib = 2 * size * size * len(CHANNELS) / 2 ** 20
            for passbands in ("171", "all"):
                rate = examples_per_second(path, passbands, args.seconds)
                rows.append((size, "1 (171)" if passbands == "171" else "9 (all)",
                             record_mib, rate, rate * record_mib))
    print(f"pipeline throughput, {os.cpu_count()} CPU cores, batch 1, training=True "
          "(shuffle + decode + scale + mask + shake)\n")
    print("| size | target passbands | record (MiB) | examples/s | MiB/s read |")
    print("|---|---|---|---|---|")
    for size, bands, mib, rate, mbs in rows:
        print(f"| {size} | {bands} | {mib:.1f} | {rate:.1f} | {mbs:.0f} |")


if __name__ == "__main__":
    main()
