"""What a newcomer's first ``solar-euv-train`` gives: time, validation CC, test CC, three seeds.

Runs the default command (``solar-euv-train``, no options but ``--seed`` and
``--run-dir``) as a user would, in a fresh ``HOME`` so that the embedded
synthetic sample is generated and prepared first:

1. seed 0 in the fresh ``HOME``: wall and CPU seconds of the whole first run
   (sample, preparation, training, references), the training seconds and
   steps/s, the validation CC after each validation, the closing line and
   the log a batch system keeps (``runs[i]["log"]``);
2. seeds 1 and 2 in the same ``HOME`` (the sample already there): their
   closing CC, and the spread of the three;
3. ``solar-euv evaluate`` of seed 0's model on the test split: its table line.

Writes ``default_run.json`` (a results table: one row per seed) and
``default_run.md`` into ``--out``; the docs' figures of the default run
(docs/training.md, docs/evaluate.md, docs/learning.md) come from it.  Takes
about 6 minutes on 2 CPU cores.

Example::

    python -m benchmarks.default_run --out benchmarks/results
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

__all__ = ["main", "parse_training_output"]

_VALIDATION = re.compile(r"^step (\d+): validation L1 [0-9.]+; (\w+) CC ([0-9.]+)")
_DONE = re.compile(r"^done: (\d+) steps in (\d+) s \(([0-9.]+) steps/s\).*?(\w+) CC ([0-9.]+) "
                   r"\(per-pixel fit ([0-9.]+), oracle ([0-9.]+), at (\d+) px ([0-9.]+)\)")


def parse_training_output(text):
    """The figures of a ``solar-euv-train`` log (one line per event, as on a batch system).

    Returns
    -------
    dict
        ``curve`` ([step, CC] per validation), ``steps``,
        ``train_seconds``, ``steps_per_s``, ``cc``, ``pixel_fit``, ``oracle``,
        ``oracle_at_size``, ``closing`` (the ``done:`` line).

    Raises
    ------
    ValueError
        The log has no ``done:`` line (the run failed).
    """
    out = {"curve": []}
    for line in text.splitlines():
        line = line.strip()
        match = _VALIDATION.match(line)
        if match:
            out["curve"].append([int(match.group(1)), float(match.group(3))])
        done = _DONE.match(line)
        if done:
            out.update(steps=int(done.group(1)), train_seconds=int(done.group(2)),
                       steps_per_s=float(done.group(3)), cc=float(done.group(5)),
                       pixel_fit=float(done.group(6)), oracle=float(done.group(7)),
                       oracle_at_size=float(done.group(9)), closing=line)
    if "closing" not in out:
        raise ValueError("the training log has no 'done:' line:\n" + text[-2000:])
    return out


def _run(argv, env, echo):
    """Run a console command; its output, wall seconds and CPU seconds of the child."""
    import resource                   # Unix only: imported where it is used

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    echo(f"{' '.join(argv)}: {wall:.0f} s wall, {cpu:.0f} s CPU")
    return proc.stdout, wall, cpu


def _tool(name):
    """The console script of this environment (beside the Python running this)."""
    path = pathlib.Path(sys.executable).with_name(name)
    return str(path) if path.exists() else name


def main(argv=None):
    from benchmarks.common import machine_info, machine_line, results_table, write_files

    parser = argparse.ArgumentParser(prog="python -m benchmarks.default_run",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="directory for default_run.json/.md")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--work", help="working directory (default: a temporary one)")
    parser.add_argument("--train-option", action="append", default=[],
                        help="extra solar-euv-train option (tests: --iterations 2 ...)")
    args = parser.parse_args(argv)
    echo = lambda line: print(line, flush=True)  # noqa: E731
    work = pathlib.Path(args.work) if args.work else pathlib.Path(
        tempfile.mkdtemp(prefix="default-run-"))
    if (work / "home").exists():
        raise SystemExit(f"{work}/home exists: the first run needs a fresh HOME")
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HOME=str(home), SOLAR_EUV_CACHE=str(home / ".cache" / "solar_euv"))
    rows, runs = [], []
    for seed in range(args.seeds):
        run_dir = work / f"run-seed{seed}"
        command = [_tool("solar-euv-train"), "--seed", str(seed), "--run-dir", str(run_dir),
                   *args.train_option]
        text, wall, cpu = _run(command, env, echo)
        figures = parse_training_output(text)
        figures["log"] = [ln for ln in text.splitlines()
                          if ln.startswith(("solar-euv-train:", "step ", "done:"))]
        config = json.loads((run_dir / "config.json").read_text())
        figures["precision"] = config.get("precision", {}).get("policy")
        figures.update(seed=seed, wall_seconds=round(wall, 1), cpu_seconds=round(cpu, 1),
                       fresh_home=seed == 0, command="solar-euv-train" + (
                           f" --seed {seed}" if seed else ""))
        runs.append(figures)
        echo(figures["closing"])
        rows.append([str(seed), "yes" if seed == 0 else "no (sample cached)", f"{wall:.0f}",
                     f"{cpu:.0f}", str(figures["train_seconds"]), f"{figures['steps_per_s']:.2f}",
                     " / ".join(f"{cc:.3f}" for _, cc in figures["curve"]),
                     f"{figures['cc']:.3f}", f"{figures['pixel_fit']:.3f}",
                     f"{figures['oracle_at_size']:.3f}"])
    evaluation = None
    if runs:
        from solar_euv.synthetic.sample import default_sample_dir

        sample = default_sample_dir(home / ".cache" / "solar_euv")   # there: returns at once
        data = sample.with_name(sample.name + "-prepared")
        text, _, _ = _run([_tool("solar-euv"), "evaluate", str(work / "run-seed0"), str(data),
                           "--split", "test", "--out", str(work / "eval")], env, echo)
        line = next((ln for ln in text.splitlines() if ln.startswith("| 171")), None)
        evaluation = {"command": "solar-euv evaluate runs/solar-euv "
                                 "~/.cache/solar_euv/sample-v2-prepared --split test --out eval/",
                      "table_line": line, "output": text.splitlines()}
    ccs = [r["cc"] for r in runs]
    machine = machine_info()
    notes = [f"precision picked by --precision auto: {runs[0].get('precision')}" if runs else "",
             f"closing CC over {len(ccs)} seeds: {min(ccs):.3f}-{max(ccs):.3f}" if ccs else "",
             f"test split (seed 0, solar-euv evaluate): {evaluation['table_line']}"
             if evaluation and evaluation["table_line"] else ""]
    table = results_table(
        "The default run (`solar-euv-train`, no options): first run in a fresh HOME, then "
        "further seeds with the sample cached",
        command="python -m benchmarks.default_run " + " ".join(argv if argv is not None
                                                               else sys.argv[1:]),
        machine=machine,
        columns=["seed", "fresh HOME", "wall s", "CPU s", "training s", "steps/s",
                 "validation CC at each validation", "closing 171 CC", "per-pixel fit",
                 "oracle at 128 px"],
        rows=rows, notes=[n for n in notes if n])
    table["runs"] = runs
    table["evaluation"] = evaluation
    md = [f"# {table['title']}", "", f"{machine_line(machine)}; `{table['command']}`", "",
          "| " + " | ".join(table["columns"]) + " |", "|" + "---|" * len(table["columns"])]
    md += ["| " + " | ".join(r) + " |" for r in rows] + [""] + [f"- {n}" for n in table["notes"]]
    write_files(pathlib.Path(args.out), [("default_run.json", json.dumps(table, indent=1) + "\n"),
                                         ("default_run.md", "\n".join(md) + "\n")])
    echo("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
