"""Command line of the benchmarks: ``python -m benchmarks run|compare|profile|learn``.

Examples
--------
::

    python -m benchmarks run --quick --out bench-out     # about a minute on 2 CPU cores
    python -m benchmarks run --out bench-std             # + pipeline, prep and predict
    python -m benchmarks run --full --out bench-full
    python -m benchmarks run --out bench-train --no-data # training only
    python -m benchmarks compare old/train_speed.json bench-out/train_speed.json
    python -m benchmarks profile --model B --size 256
    python -m benchmarks learn --out learn-results     # validation CC vs steps, ~1 h
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402

__all__ = ["main", "compare"]


def _bool_list(text):
    return [{"on": True, "off": False}[t] for t in text.split(",")]


def _int_list(text):
    return [int(t) for t in text.split(",")]


def _str_list(text):
    return text.split(",")


def _run(args, argv):
    import tensorflow as tf

    from benchmarks.common import write_files
    from benchmarks.data_speed import SECTIONS, markdown_data, run_data_benchmarks
    from benchmarks.train_speed import markdown_table, run_benchmark

    # Before TensorFlow runs its first op (it fixes its thread pools then).
    if args.intra_op:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op)
    if args.inter_op:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)

    mode = "quick" if args.quick else "full" if args.full else "standard"
    data = args.data if args.data is not None else mode != "quick"
    result = run_benchmark(
        mode, models=args.models, sizes=args.sizes, batches=args.batches,
        precisions=args.precisions, xla=args.xla, rounds=args.rounds, steps=args.steps,
        warmup=args.warmup, base_filters=args.base_filters,
        bottleneck_size=args.bottleneck, matmul_size=args.matmul_size,
        authors=not args.no_authors, command="python -m benchmarks " + " ".join(argv),
        echo=lambda line: print(line, flush=True), fast_paths=args.fast_paths)
    data_seconds = 0.0
    if data:
        result.update(run_data_benchmarks(
            mode, result["rows"], base_filters=args.base_filters,
            echo=lambda line: print(line, flush=True), sizes=args.data_sizes,
            pipeline_seconds=args.pipeline_seconds, pipeline_examples=args.pipeline_examples,
            prep_size=args.prep_size, repeat=args.data_repeat,
            predict_images=args.predict_images, predict_batch=args.predict_batch))
        data_seconds = sum(result[name]["seconds"] for name in SECTIONS)
    out = pathlib.Path(args.out)
    table = markdown_table(result)
    if data:
        table += "\n" + markdown_data(result).rstrip("\n") + "\n"
    write_files(out, [("train_speed.json", json.dumps(result, indent=1) + "\n"),
                      ("train_speed.md", table)])
    print()
    print(table)
    print(f"written: {out / 'train_speed.json'}, {out / 'train_speed.md'} "
          f"(training {result['seconds']:.0f} s"
          + (f", data {data_seconds:.0f} s)" if data else ")"))
    failed = [name for name in SECTIONS if "error" in result.get(name, {})]
    if failed:
        print(f"failed: {', '.join(failed)} (see above)", file=sys.stderr)
        return 1
    return 0


def compare(old, new):
    """Lines comparing two ``train_speed.json`` results, configuration by configuration.

    For each configuration present in both: the step-time ratio old/new
    (above 1: the new run is faster), the same ratio normalised by each
    run's matmul peak (machine speed cancels out; per CPU second where both
    runs recorded it, else per wall-clock second), then the ``vs authors``
    ratios of both runs (the most robust figure on a shared machine).

    Parameters
    ----------
    old, new : dict
        Parsed JSON results of ``python -m benchmarks run``.

    Returns
    -------
    list of str
    """
    old_rows = {r["key"]: r for r in old["rows"]}
    lines = ["| configuration | old ms | new ms | old/new time | peak-normalised "
             "| vs authors old | vs authors new |", "|---|---|---|---|---|---|---|"]
    for row in new["rows"]:
        before = old_rows.get(row["key"])
        if before is None:
            continue
        ratio = before["step_seconds"] / row["step_seconds"]
        norm = float("nan")
        for key in ("peak_fraction_cpu", "peak_fraction"):  # CPU time: steadier
            if before.get(key) and row.get(key):
                norm = row[key] / before[key]
                break
        vs_old = before.get("vs_authors")
        vs_new = row.get("vs_authors")
        lines.append(
            f"| {row['key']} | {1000 * before['step_seconds']:.0f} | "
            f"{1000 * row['step_seconds']:.0f} | {ratio:.2f} | {norm:.2f} | "
            f"{'' if vs_old is None else f'{vs_old:.2f}'} | "
            f"{'' if vs_new is None else f'{vs_new:.2f}'} |")
    if len(lines) == 2:
        lines.append("| (no configuration in common) | | | | | | |")
    return lines


def _compare(args):
    old = json.loads(pathlib.Path(args.old).read_text())
    new = json.loads(pathlib.Path(args.new).read_text())
    print("\n".join(compare(old, new)))
    return 0


def _profile(args, argv):
    from benchmarks.profile_step import profile_train_step, top_ops_table

    profile = profile_train_step(args.model, args.size, args.precision, steps=args.steps,
                                 base_filters=args.base_filters,
                                 bottleneck_size=args.bottleneck, loop=args.loop,
                                 logdir=args.logdir)
    print(top_ops_table(profile, args.top))
    print("top ops by name:")
    for name, seconds, _ in profile["by_op"][:args.top]:
        print(f"  {1000 * seconds:7.1f} ms  {name}")
    print(f"trace: {profile['logdir']} (tensorboard --logdir {profile['logdir']})")
    if args.out:
        from benchmarks.common import machine_info, results_table, write_files

        total = sum(t for _, t, _ in profile["by_type"]) or 1.0
        table = results_table(
            f"Top op types of one training step ({profile['loop']} loop, model "
            f"{profile['model']}, {profile['size']} px, {profile['precision']}; TF profiler, "
            f"op time summed over threads: {1000 * total:.0f} ms/step)",
            ["op type", "ms/step", "share of op time", "ops/step"],
            [[name, f"{1000 * seconds:.1f}", f"{100 * seconds / total:.1f} %", f"{count:.0f}"]
             for name, seconds, count in profile["by_type"][:args.top]],
            command="python -m benchmarks " + " ".join(argv), machine=machine_info())
        name = f"profile_{profile['loop']}_{profile['model']}_{profile['size']}.json"
        write_files(pathlib.Path(args.out), [(name, json.dumps(table, indent=1) + "\n")])
        print(f"written: {pathlib.Path(args.out) / name}")
    return 0


def _learn(args, argv):
    from benchmarks.learn import main as learn_main

    return learn_main(args, argv)


def main(argv=None):
    """Entry point of ``python -m benchmarks``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="measure training speed (and input pipeline, "
                                      "preparation and prediction); write JSON + Markdown")
    size = run.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="Models A, B at 256 px, float32 + mixed_bfloat16 (about a "
                           "minute on 2 CPU cores); comparable between runs")
    size.add_argument("--full", action="store_true",
                      help="256, 512, 1024 px, batch 1 and 4, with and without XLA")
    run.add_argument("--out", default="benchmark-results", help="output directory")
    run.add_argument("--models", type=_str_list, help="comma list, e.g. A,B")
    run.add_argument("--sizes", type=_int_list, help="comma list, e.g. 256,512")
    run.add_argument("--batches", type=_int_list, help="comma list, e.g. 1,4")
    run.add_argument("--precisions", type=_str_list,
                     help="comma list of float32, mixed_bfloat16, mixed_float16")
    run.add_argument("--xla", type=_bool_list, help="comma list of off,on")
    run.add_argument("--rounds", type=int, help="interleaved rounds")
    run.add_argument("--steps", type=int, help="timed steps per configuration and round")
    run.add_argument("--warmup", type=int, help="untimed steps after building")
    run.add_argument("--base-filters", type=int, default=64)
    run.add_argument("--bottleneck", type=int, default=4, choices=(1, 4),
                     help="U-Net bottleneck: 4 (default network) or 1 (authors' deeper one)")
    run.add_argument("--matmul-size", type=int)
    run.add_argument("--intra-op", type=int, help="TensorFlow intra-op threads")
    run.add_argument("--inter-op", type=int, help="TensorFlow inter-op threads")
    run.add_argument("--fast-paths", type=_str_list,
                     help="comma list of variants of this project's step timed side by "
                          "side: table (default: this device kind's paths), off, a device "
                          "kind (its paths), no-<field> (the table without one path, e.g. "
                          "no-fused_batch_norm)")
    run.add_argument("--no-authors", action="store_true",
                     help="skip the authors'-style reference loop")
    data = run.add_argument_group(
        "data side", "input pipeline (examples/s from TFRecords, vs the training rate), "
        "preparation (files/s) and prediction (images/s, Model.predict and SavedModel), "
        "measured after training in the same process")
    data.add_argument("--data", action=argparse.BooleanOptionalAction, default=None,
                      help="measure the data side (default: on, off with --quick)")
    data.add_argument("--data-sizes", type=_int_list,
                      help="pipeline and predict sizes, comma list (default 256,1024; "
                           "--quick: 256)")
    data.add_argument("--pipeline-seconds", type=float,
                      help="timed seconds per pipeline measurement (default 5; --quick 3, "
                           "--full 10)")
    data.add_argument("--pipeline-examples", type=int,
                      help="observations written per size (default 128 up to 256 px, "
                           "24 above)")
    data.add_argument("--prep-size", type=int,
                      help="side of the synthetic level-1 files (default 4096; prepared "
                           "at a quarter of it)")
    data.add_argument("--data-repeat", type=int,
                      help="best of this many runs for prep and predict (default 2; "
                           "--quick 1, --full 3)")
    data.add_argument("--predict-images", type=int,
                      help="images per timed predict run (default 4; --quick 2, --full 8)")
    data.add_argument("--predict-batch", type=int,
                      help="predict batch size (default 2; --quick 1, --full 4)")
    run.set_defaults(func=_run)

    cmp_ = sub.add_parser("compare", help="ratios between two train_speed.json files")
    cmp_.add_argument("old")
    cmp_.add_argument("new")
    cmp_.set_defaults(func=_compare)

    prof = sub.add_parser("profile", help="top ops of one training step (TF profiler)")
    prof.add_argument("--model", default="B", choices=("A", "B"))
    prof.add_argument("--size", type=int, default=256)
    prof.add_argument("--precision", default="float32")
    prof.add_argument("--steps", type=int, default=3)
    prof.add_argument("--loop", default="project", choices=("project", "authors"))
    prof.add_argument("--base-filters", type=int, default=64)
    prof.add_argument("--bottleneck", type=int, default=4, choices=(1, 4))
    prof.add_argument("--top", type=int, default=12)
    prof.add_argument("--logdir")
    prof.add_argument("--out", help="also write the table as profile_<loop>_<model>_<size>.json "
                                    "(a results table) into this directory")
    prof.set_defaults(func=_profile)

    learn = sub.add_parser("learn", help="validation CC against steps for Models A and B, "
                                         "one-passband and nine-output models, beside the "
                                         "oracle, the per-pixel fit and an untrained network")
    learn.add_argument("--out", default="learn-results", help="output directory")
    learn.add_argument("--passbands", default="all",
                       help="one-passband models for these (comma list or 'all')")
    learn.add_argument("--models", type=_str_list, default=["A", "B"],
                       help="comma list, e.g. A,B")
    learn.add_argument("--nine", action=argparse.BooleanOptionalAction, default=True,
                       help="also the nine-output model of each Model")
    learn.add_argument("--steps", type=int, help="steps per run (default: the quick preset)")
    learn.add_argument("--image-size", type=int, help="default: the quick preset")
    learn.add_argument("--validate-every", type=int, help="default: the quick preset")
    learn.add_argument("--data", help="a prepared dataset (default: the synthetic Sun)")
    learn.add_argument("--sun-seed", type=int,
                       help="render and prepare the synthetic Sun of this seed (default 0: "
                            "the embedded sample); with --data: the seed that made it, "
                            "for the oracle")
    learn.add_argument("--seed", type=int, default=0, help="training seed")
    learn.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="another training option for every run, e.g. lr=2e-4, "
                            "lr_decay=none, hmi_off_disk=-1, batch_size=8 (repeatable)")
    learn.add_argument("--merge", action="append", metavar="LEARN_JSON",
                       help="train nothing: combine the learn.json of runs made in parallel "
                            "(e.g. one per core) into --out (repeatable)")
    learn.set_defaults(func=_learn)

    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if args.func in (_run, _learn, _profile):
        return args.func(args, argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
