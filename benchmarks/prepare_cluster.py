"""Files per second of ``solar-euv prepare``: worker processes against a Dask cluster.

Renders synthetic SDO files (seeded; the same files every time), prepares them
into a dataset with ``--workers 1``, ``--scheduler local:1`` and
``--scheduler local:2`` (a fresh output directory each, the cluster's start
timed apart), checks that every run wrote the same shards (SHA-256),
and writes ``benchmarks/results/prepare_cluster.json`` for the docs::

    python -m benchmarks.prepare_cluster --times 24 --size 256 --out /tmp/prepare-cluster
"""
import argparse
import contextlib
import json
import pathlib
import shutil
import time

from benchmarks.common import machine_info, results_table, write_json

__all__ = ["main"]

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "prepare_cluster.json"


def _shards(out):
    manifest = json.loads((out / "manifest.json").read_text())
    return {split: [s["sha256"] for s in info.get("shards", [])]
            for split, info in manifest["splits"].items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=24,
                        help="observations, 6 h apart from 2012-01-01 (10 files each; at most 124)")
    parser.add_argument("--size", type=int, default=256, help="grid side of files and dataset")
    parser.add_argument("--out", default="/tmp/prepare-cluster", help="work directory")
    parser.add_argument("--results", default=str(RESULTS), help="results file to write")
    parser.add_argument("--note", action="append", default=[],
                        help="a note for the results table (e.g. the load), repeatable")
    args = parser.parse_args(argv)

    from solar_euv.dataset.preparing import prepare_directory
    from solar_euv.sdo.cluster import dask_client
    from solar_euv.synthetic.sample import write_sample

    work = pathlib.Path(args.out)
    raw = work / "raw"
    if not raw.is_dir():
        times = [f"2012-01-{1 + i // 4:02d}T{6 * (i % 4):02d}:00:00" for i in range(args.times)]
        write_sample(raw, times, size=args.size)
    files = sorted(raw.glob("*.fits"))
    rows, shards = [], {}
    for label, spec in (("--workers 1", None), ("--scheduler local:1", "local:1"),
                        ("--scheduler local:2", "local:2")):
        out = work / label.replace(" ", "_").replace(":", "").strip("-")
        if out.exists():
            shutil.rmtree(out)
        with contextlib.ExitStack() as stack:
            start = time.perf_counter()
            client = stack.enter_context(dask_client(spec)) if spec else None
            started = time.perf_counter() - start
            start = time.perf_counter()
            prepare_directory(raw, out, size=args.size, passbands="all", progress=False,
                              workers=1, scheduler=client)
            seconds = time.perf_counter() - start
        shards[label] = _shards(out)
        rows.append([f"`{label}`", str(len(files)), f"{started:.1f}" if spec else "",
                     f"{seconds:.1f}", f"{len(files) / seconds:.1f}"])
        print(f"{label}: start {started:.1f} s, {len(files)} files in {seconds:.1f} s "
              f"({len(files) / seconds:.1f} files/s)", flush=True)
    same = len({json.dumps(v, sort_keys=True) for v in shards.values()}) == 1
    if not same:
        raise SystemExit("the runs wrote different shards")
    command = ("python -m benchmarks.prepare_cluster --times "
               f"{args.times} --size {args.size}")
    result = results_table(
        f"solar-euv prepare of {len(files)} synthetic files ({args.times} observations, "
        f"{args.size} px): in this process against a local Dask cluster (start: workers "
        "up and their imports done); the shards are identical (SHA-256)",
        ["engine", "files", "cluster start s", "preparation s", "files/s"], rows,
        command=command, machine=machine_info(command), notes=args.note)
    write_json(args.results, result)
    print(f"written: {args.results}")


if __name__ == "__main__":
    main()
