"""Learning benchmark: validation CC against steps, beside what the input allows.

``python -m benchmarks learn`` trains, through ``solar_euv.training.train``
(the path ``solar-euv-train`` takes), one-passband models and the
nine-output model, Model A and Model B, on the synthetic Sun, and puts the
validation CC of each beside

* the oracle: the synthetic Sun's noise-free truth at the stored size,
  averaged to the training size (the best any model can do);
* the oracle at the training size: the forward model run on the training
  grid itself (what the magnetogram as the network sees it allows);
* the per-pixel fit: :class:`solar_euv.reference.PixelFit` fitted on the
  training split (what a line fit gets from the same input);
* an untrained generator of the same configuration.

Beside the CC of the trained models it reports the sharpness metrics of
:func:`solar_euv.metrics.image_sharpness` (total-flux ratio and
high-frequency power ratio), which Model B is trained for.

Written to ``--out``: ``learn_references.json`` and ``learn_runs.json``
(the tables of ``benchmarks/results/`` that the docs render), ``learn.json`` (every curve, score, time, the
command, the machine), ``learn.md`` (the tables) and ``learn.png`` (CC
against steps per passband).  Examples::

    python -m benchmarks learn --out learn-results              # the documented run
    python -m benchmarks learn --passbands 171,1700 --models A --no-nine
    python -m benchmarks learn --sun-seed 7 --out learn-seed7     # a Sun not tuned on
    python -m benchmarks learn --passbands 171 --models A --no-nine \
        --set hmi_off_disk=-1 --set lr=2e-4 --set lr_decay=none   # the earlier setting
"""
import json
import pathlib
import time

from benchmarks.common import machine_line, write_files

__all__ = ["run_learning_benchmark", "score_generator", "markdown_tables", "plot_curves",
           "synthetic_dataset"]


def score_generator(generator, dataset, passbands, scaling):
    """Paper's and sharpness metrics of ``generator`` on ``(x, y)`` batches in network units.

    Returns
    -------
    dict
        :meth:`solar_euv.metrics.MetricAccumulator.summary`.
    """
    from solar_euv.metrics import MetricAccumulator

    acc = MetricAccumulator()
    for x, y in dataset:
        fake = scaling.apply_mask(generator(x, training=False).numpy())
        y = y.numpy()
        for i in range(fake.shape[0]):
            for c, band in enumerate(passbands):
                acc.add(band, scaling.aia_from_network(fake[i, ..., c]),
                        scaling.aia_from_network(y[i, ..., c]))
    return acc.summary()


def synthetic_dataset(seed, root, echo=print):
    """The default sample's times rendered by ``SyntheticSun(seed)``, prepared (cached)."""
    from solar_euv.dataset.preparing import prepare_directory
    from solar_euv.exceptions import SolarEUVError
    from solar_euv.synthetic.sample import (DEFAULT_SAMPLE_SIZE, default_sample_times,
                                           write_sample)

    root = pathlib.Path(root)
    prepared = root / f"sun-{seed}-prepared"
    if (prepared / "manifest.json").is_file():
        return prepared
    raw = root / f"sun-{seed}"
    echo(f"rendering the synthetic Sun of seed {seed} into {raw}")
    write_sample(raw, default_sample_times(), size=DEFAULT_SAMPLE_SIZE, seed=seed)
    try:
        prepare_directory(raw, prepared, size=DEFAULT_SAMPLE_SIZE, progress=False)
    except SolarEUVError as err:
        raise RuntimeError(f"preparing {raw} failed: {err}") from err
    return prepared


def _curve(run_dir, passbands):
    import csv

    with open(pathlib.Path(run_dir) / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    return {"steps": [int(r["step"]) for r in rows],
            "CC": {b: [float(r[f"{b}_CC"]) for r in rows] for b in passbands}}


def run_learning_benchmark(out, *, passbands, models=("A", "B"), nine=True, steps=None,
                           image_size=None, validate_every=None, data=None, sun_seed=0,
                           seed=0, options=None, command="", echo=print):
    """Train and score every configuration; returns the JSON-able result.

    Parameters
    ----------
    out : pathlib.Path
        Output directory (run directories go to ``out/runs``).
    passbands : sequence of str
        One-passband models are trained for each of these.
    models : sequence of {"A", "B"}
    nine : bool
        Also train the nine-output model (all passbands at once) per model.
    steps, image_size, validate_every : int, optional
        Override the quick preset's values.
    data : str, optional
        A prepared dataset (default: the synthetic Sun of ``sun_seed``; seed 0
        is the embedded sample).
    sun_seed : int or None
        The synthetic Sun's seed, for the oracle (None: no oracle).
    seed : int
        Training seed.
    options : dict, optional
        Other :class:`~solar_euv.training.TrainConfig` fields (``lr``,
        ``lr_decay``, ``hmi_off_disk``, ``batch_size``, ...): to measure what
        a setting changes.
    """
    import keras

    from benchmarks.common import machine_info
    from solar_euv.dataset import make_dataset
    from solar_euv.models import build_generator, load_model
    from solar_euv.passbands import PASSBAND_NAMES
    from solar_euv.reference import reference_scores
    from solar_euv.training import TrainConfig, default_data_dir, train

    out = pathlib.Path(out)
    if data is None:
        data = default_data_dir(echo) if sun_seed == 0 else \
            synthetic_dataset(sun_seed, out / "data", echo)
    options = dict(options or {})
    common = dict(image_size=image_size, iterations=steps, validate_every=validate_every,
                  **options)
    probe = TrainConfig(data=str(data), passbands=tuple(PASSBAND_NAMES), model="A", **common)
    scaling = probe.scaling()
    echo("references: per-pixel fit" + (", oracle" if sun_seed is not None else ""))
    bands = [b for b in PASSBAND_NAMES if b in passbands or nine]
    refs = reference_scores(data, "validation", bands, probe.image_size,
                            examples=probe.val_examples, hmi_limit=probe.hmi_limit,
                            synthetic_seed=sun_seed)
    val = make_dataset(data, "validation", bands, 8, training=False,
                       image_size=probe.image_size, scaling=scaling) \
        .unbatch().take(probe.val_examples).batch(8)
    keras.utils.set_random_seed(seed)
    untrained = score_generator(build_generator(probe.image_size, out_channels=len(bands),
                                                base_filters=probe.base_filters),
                                val, bands, scaling)
    result = {"command": command, "machine": machine_info(command), "data": str(data),
              "sun_seed": sun_seed, "image_size": probe.image_size,
              "iterations": probe.iterations, "validate_every": probe.validate_every,
              "batch_size": probe.batch_size, "lr": probe.lr, "lr_decay": probe.lr_decay,
              "hmi_limit": probe.hmi_limit, "hmi_off_disk": probe.hmi_off_disk,
              "hmi_asinh": probe.hmi_asinh, "mask_radius": probe.mask_radius,
              "disk_loss": probe.disk_loss,
              "options": options, "references": refs,
              "untrained": {b: untrained[b]["CC"] for b in bands}, "runs": []}
    jobs = [(m, (b,)) for m in models for b in passbands]
    if nine:
        jobs += [(m, tuple(PASSBAND_NAMES)) for m in models]
    for model, job_bands in jobs:
        name = f"{model}-{'nine' if len(job_bands) > 1 else job_bands[0]}"
        config = TrainConfig(data=str(data), passbands=job_bands, model=model, seed=seed,
                             run_dir=str(out / "runs" / name), force=True, **common)
        echo(f"training {name}: model {model}, {len(job_bands)} passband(s), "
             f"{config.iterations} steps")
        trained = train(config, echo=lambda line: None, verbose=0, references=False)
        generator = load_model(trained.model_path).generator
        final_val = make_dataset(data, "validation", job_bands, 8, training=False,
                                 image_size=config.image_size, scaling=scaling) \
            .unbatch().take(config.val_examples).batch(8)
        final = score_generator(generator, final_val, job_bands, scaling)
        run = {"name": name, "model": model, "passbands": list(job_bands),
               "seconds": trained.seconds, "steps": trained.steps,
               "curve": _curve(config.run_dir, job_bands),
               "final": {b: {k: final[b][k] for k in ("CC", "RE", "FLUX", "HFP")}
                         for b in job_bands}}
        result["runs"].append(run)
        echo(f"  {trained.seconds:.0f} s; " + ", ".join(
            f"{b} CC {run['final'][b]['CC']:.3f}" for b in job_bands))
        _write(out, result)
    return result


def _fmt(v, digits=3):
    return "" if v is None else f"{v:.{digits}f}"


def markdown_tables(result):
    """The CC table (references and every run) and the A-vs-B sharpness table."""
    refs = result["references"]
    runs = result["runs"]
    bands = [b for b in refs["pixel_fit"]]
    cols = [r["name"] for r in runs]
    lines = ["| passband | oracle | oracle at "
             f"{result['image_size']} px | per-pixel fit | untrained | "
             + " | ".join(f"{c} CC" for c in cols) + " |",
             "|---|---|---|---|---|" + "---|" * len(cols)]
    for b in bands:
        cells = [_fmt(refs.get("oracle", {}).get(b)), _fmt(refs.get("oracle_at_size",
                                                                      {}).get(b)),
                 _fmt(refs["pixel_fit"][b]), _fmt(result["untrained"].get(b))]
        cells += [_fmt(r["final"][b]["CC"]) if b in r["final"] else "" for r in runs]
        lines.append(f"| {b} | " + " | ".join(cells) + " |")
    lines.append("| training s | | | | | " + " | ".join(f"{r['seconds']:.0f}" for r in runs)
                 + " |")
    lines += ["", "| run | passband | CC | flux ratio | HF power ratio |",
              "|---|---|---|---|---|"]
    for r in runs:
        for b, f in r["final"].items():
            lines.append(f"| {r['name']} | {b} | {_fmt(f['CC'])} | {_fmt(f['FLUX'])} | "
                         f"{_fmt(f['HFP'])} |")
    return "\n".join(lines) + "\n"


def results_tables(result, *, machine=None, notes=()):
    """The results as two tables for ``benchmarks/results/`` (the docs render them).

    ``learn_references.json``: oracle, oracle at the training size, per-pixel
    fit and untrained network per passband; ``learn_runs.json``: one row per
    run and passband with the final and the best validation CC (and its
    step), the references beside them, flux and HF power ratios and the
    training time.
    """
    refs = result["references"]
    machine = machine or machine_line(result["machine"])
    common = {"machine": machine, "command": result["command"], "notes": list(notes)}
    size = result["image_size"]
    reference_rows = [[b, _fmt(refs.get("oracle", {}).get(b)),
                       _fmt(refs.get("oracle_at_size", {}).get(b)), _fmt(refs["pixel_fit"][b]),
                       _fmt(result["untrained"].get(b))] for b in refs["pixel_fit"]]
    run_rows = []
    for r in result["runs"]:
        for b, f in r["final"].items():
            curve = r["curve"]["CC"].get(b, [])
            best = max(range(len(curve)), key=curve.__getitem__) if curve else None
            run_rows.append([
                r["name"], b, _fmt(f["CC"]),
                "" if best is None else f"{curve[best]:.3f} ({r['curve']['steps'][best]})",
                _fmt(refs["pixel_fit"].get(b)), _fmt(refs.get("oracle_at_size", {}).get(b)),
                _fmt(f["FLUX"]), _fmt(f["HFP"]), str(r["steps"]), f"{r['seconds']:.0f}"])
    return {
        "learn_references.json": dict(
            title=f"References on the {refs['examples']} validation examples ({size} px)",
            columns=["passband", "oracle", f"oracle at {size} px", "per-pixel fit",
                     "untrained"], rows=reference_rows, **common),
        "learn_runs.json": dict(
            title=f"Validation CC after {result['iterations']} steps ({size} px, batch "
                  f"{result['batch_size']}, rate {result['lr']} {result['lr_decay']} decay)",
            columns=["run", "passband", "CC", "best CC (step)", "per-pixel fit",
                     f"oracle at {size} px", "flux ratio", "HF power ratio", "steps",
                     "training s"],
            rows=run_rows, **common),
    }


def plot_curves(result, path):
    """Validation CC against steps, one panel per passband, references as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    refs = result["references"]
    bands = list(refs["pixel_fit"])
    cols = min(3, len(bands))
    rows = (len(bands) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for k, b in enumerate(bands):
        ax = axes[k // cols][k % cols]
        for r in result["runs"]:
            if b not in r["passbands"]:
                continue
            style = "-" if len(r["passbands"]) == 1 else "--"
            color = "C0" if r["model"] == "A" else "C3"
            ax.plot(r["curve"]["steps"], r["curve"]["CC"][b], style, color=color,
                    marker="o", ms=3, label=f"{r['model']} "
                    + ("one passband" if len(r["passbands"]) == 1 else "nine outputs"))
        for key, label, color in (("oracle", "oracle", "k"),
                                  ("oracle_at_size", f"oracle at {result['image_size']} px",
                                   "0.5"),
                                  ("pixel_fit", "per-pixel fit", "C2")):
            if key in refs:
                ax.axhline(refs[key][b], color=color, ls=":", lw=1.2, label=label)
        ax.set_title(f"{b} Å")
        ax.set_xlabel("step")
        ax.set_ylabel("validation CC")
        ax.grid(alpha=0.3)
        if k == 0:
            ax.legend(fontsize=7)
    for k in range(len(bands), rows * cols):
        axes[k // cols][k % cols].set_axis_off()
    fig.suptitle(f"{result['command']}  ({result['machine']['cpu_count']} cores, "
                 f"{result['machine']['device_kind']})", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _write(out, result):
    files = [("learn.json", json.dumps(result, indent=1) + "\n"),
             ("learn.md", markdown_tables(result))]
    files += [(name, json.dumps(table, indent=1) + "\n")
              for name, table in results_tables(result).items()]
    write_files(out, files)
    if result["runs"]:
        plot_curves(result, out / "learn.png")


def merge_results(results):
    """One result from several ``learn.json`` of the same settings run in parallel.

    References, untrained scores and runs are united (the references of a
    passband are the same computation in each); the commands are joined with
    ``" ; "``; the machine is the first result's.  Runs may differ in their
    number of steps (a passband given a longer run): the runs table says each.
    """
    from solar_euv.passbands import PASSBAND_NAMES

    if not results:
        raise ValueError("merge_results needs at least one result")
    keys = ("image_size", "batch_size", "lr", "lr_decay",
            "hmi_limit", "hmi_off_disk", "hmi_asinh", "mask_radius", "disk_loss", "sun_seed",
            "data")
    first = results[0]
    for other in results[1:]:
        differ = [k for k in keys if other.get(k) != first.get(k)]
        if differ:
            raise ValueError("results made with different settings: " + ", ".join(differ))
    merged = {k: v for k, v in first.items() if k not in ("references", "untrained", "runs")}
    merged["command"] = " ; ".join(r["command"] for r in results)
    steps = sorted({r["iterations"] for r in results})
    merged["iterations"] = steps[0] if len(steps) == 1 else "/".join(map(str, steps))
    refs = {}
    for r in results:
        for key, value in r["references"].items():
            if isinstance(value, dict):
                refs.setdefault(key, {}).update(value)
            else:
                refs.setdefault(key, value)
    order = [b for b in PASSBAND_NAMES if b in refs.get("pixel_fit", {})]
    merged["references"] = {k: ({b: v[b] for b in order if b in v} if isinstance(v, dict)
                                else v) for k, v in refs.items()}
    merged["untrained"] = {b: u for r in results for b, u in r["untrained"].items()}
    merged["runs"] = [run for r in results for run in r["runs"]]
    return merged


def _options(pairs):
    """``["lr=2e-4", "lr_decay=none"]`` -> ``{"lr": 2e-4, "lr_decay": "none"}``."""
    out = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set needs KEY=VALUE; received {pair!r}")
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except ValueError:
            out[key.replace("-", "_")] = value
    return out


def main(args, argv):
    """``python -m benchmarks learn``; returns the exit status."""
    from solar_euv.passbands import parse_passbands

    start = time.perf_counter()
    out = pathlib.Path(args.out)
    if getattr(args, "merge", None):
        result = merge_results([json.loads(pathlib.Path(p).read_text()) for p in args.merge])
        _write(out, result)
        print(markdown_tables(result))
        print(f"written: {out / 'learn.json'}, {out / 'learn.md'}, {out / 'learn.png'}")
        return 0
    result = run_learning_benchmark(
        out, passbands=parse_passbands([args.passbands]), models=args.models,
        nine=args.nine, steps=args.steps, image_size=args.image_size,
        validate_every=args.validate_every, data=args.data,
        sun_seed=args.sun_seed if args.sun_seed is not None else (None if args.data else 0),
        seed=args.seed, options=_options(args.set),
        command="python -m benchmarks " + " ".join(argv),
        echo=lambda line: print(line, flush=True))
    _write(out, result)
    print()
    print(markdown_tables(result))
    print(f"written: {out / 'learn.json'}, {out / 'learn.md'}, {out / 'learn.png'} "
          f"({time.perf_counter() - start:.0f} s)")
    return 0
