"""Speed of the synthetic Sun: seconds per time step (HMI + nine AIA files) on one core.

Usage::

    python benchmarks/synthetic_speed.py                  # sizes 256 and 1024
    python benchmarks/synthetic_speed.py --sizes 256 1024 4096 --steps 3

Each size writes ``--steps`` time steps 6 hours apart (after one warm-up step
that pays for imports and caches) into a temporary directory, single-threaded
(BLAS/OpenMP limited to one thread, FFTs with one worker), and prints a
Markdown table: seconds per time step (median wall clock, and CPU time of this
process, which is the fairer figure on a shared machine), per file, and the
size of one time step on disk.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from astropy.time import Time  # noqa: E402

from solar_euv.synthetic.sample import sample_times  # noqa: E402
from solar_euv.synthetic.sun import SyntheticSun  # noqa: E402


def measure(size, steps, seed=0):
    """Median wall and CPU seconds per time step, files per step, bytes per step."""
    sun = SyntheticSun(seed)
    times = sample_times(Time("2014-03-01T00:00", scale="utc"),
                         Time("2014-03-31T00:00", scale="utc"), "6h")[:steps + 1]
    with tempfile.TemporaryDirectory() as tmp:
        sun.write_time_step(tmp, times[0], size)              # warm-up
        durations, cpu, nbytes, nfiles = [], [], 0, 0
        for t in times[1:]:
            start, start_cpu = time.perf_counter(), time.process_time()
            paths = sun.write_time_step(tmp, t, size)
            durations.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            nbytes = sum(p.stat().st_size for p in paths)
            nfiles = len(paths)
    return statistics.median(durations), statistics.median(cpu), nfiles, nbytes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    print("| size | wall s / time step | CPU s / time step | CPU s / file | MB / time step |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        wall, cpu, nfiles, nbytes = measure(size, args.steps)
        print(f"| {size} | {wall:.2f} | {cpu:.2f} | {cpu / nfiles:.3f} | {nbytes / 1e6:.2f} |")


if __name__ == "__main__":
    main()
