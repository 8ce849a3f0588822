"""Evaluate a trained model on a split of a prepared dataset: the paper's table and figures.

:func:`evaluate_model` reads every example of the split that has the
model's passbands, in physical units (Gauss, DN/s), reduced to the model's
grid by whole-block averaging as in training
(:func:`solar_euv.dataset.reading.read_split`); it generates each image
with :func:`solar_euv.inference.generation.generate` (the network input
scaled and masked exactly as in training, the output in DN/s with 0 beyond
``mask_radius * R``) and scores it against the *unmasked* observed image with
:func:`solar_euv.metrics.image_metrics` (binning to 256 px, solar disk, CC,
RE, PPE10, PPE50).  Each metric is the mean over the images of the split,
as the paper's table.

Written to ``out_dir``:

``metrics.md``, ``metrics.csv``, ``metrics.json``
    One row per passband (in the paper's order): CC, RE, PPE10, PPE50, their
    standard deviations over the images, the number of images, and the
    paper's CC and RE for the same model (A or B) and passband (Park et al.
    2019, test set 2017 Jul-Dec); beside them the sharpness Model B is
    trained for (:func:`solar_euv.metrics.image_sharpness`): the total-flux
    ratio and the high-frequency power ratio generated / observed.  The
    average over the passbands (CC and ``|RE|``, as the paper averages them)
    is given below the table.
``per_image.csv``
    The six metrics of every image and passband.
``compare.<time>.png``
    For a few times spread over the split: magnetogram | observed |
    generated | generated - observed, one row per passband (the layout of
    the paper's figures).
``histogram2d.png``
    Per passband, the 2-D histogram of generated against observed values
    (the metric's values ``x + 1``, log axes) over all disk pixels of the
    split, with the CC of the pooled pixels and the mean per-image CC.
"""
import csv
import dataclasses
import io
import json
import math

import numpy as np

from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.metrics import (METRIC_NAMES, PAPER_TABLE, SHARPNESS_NAMES, MetricAccumulator,
                               prepare_for_metrics)
from solar_euv.products import comparison_png, pyplot, save_figure

__all__ = ["Evaluation", "evaluate_model", "metrics_table", "histogram_png"]

_HIST_BINS = 128
_HIST_RANGE = (0.0, math.log10(2.0 ** 14))


@dataclasses.dataclass
class Evaluation:
    """The result of :func:`evaluate_model`.

    Attributes
    ----------
    summary : dict
        ``{passband: {"CC": mean, "CC_std": std, ..., "n": images}}``.
    average : dict
        ``{"CC": ..., "abs_RE": ..., "PPE10": ..., "PPE50": ...}`` over passbands.
    table : str
        The markdown table (with the average line below it).
    examples : int
        Images evaluated.
    files : list of pathlib.Path
        Files written.
    """

    summary: dict
    average: dict
    table: str
    examples: int
    files: list


def _pick_times(times, count):
    if count <= 0 or not times:
        return set()
    ordered = sorted(times)
    picks = np.unique(np.linspace(0, len(ordered) - 1, min(count, len(ordered))).round()
                      .astype(int))
    return {ordered[i] for i in picks}


def _fmt(value, digits=3):
    return "nan" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def metrics_table(summary, passbands, kind):
    """The markdown table, CSV text and JSON rows of a summary.

    Parameters
    ----------
    summary : dict
        :meth:`solar_euv.metrics.MetricAccumulator.summary`.
    passbands : sequence of str
    kind : {"A", "B"}
        The paper's model whose values are shown beside.

    Returns
    -------
    (str, str, list of dict, dict)
        Markdown (table and average line), CSV, rows, average.
    """
    rows = []
    for band in passbands:
        s = summary[band]
        paper = PAPER_TABLE.get(band, {}).get(kind, (None, None))
        row = {"passband": band, "n": s["n"]}
        for key in METRIC_NAMES + SHARPNESS_NAMES:
            row[key] = s[key]
            row[f"{key}_std"] = s[f"{key}_std"]
        row["paper_CC"], row["paper_RE"] = paper
        rows.append(row)
    average = {"CC": float(np.nanmean([r["CC"] for r in rows])),
               "abs_RE": float(np.nanmean([abs(r["RE"]) for r in rows])),
               "PPE10": float(np.nanmean([r["PPE10"] for r in rows])),
               "PPE50": float(np.nanmean([r["PPE50"] for r in rows])),
               "FLUX": float(np.nanmean([r["FLUX"] for r in rows])),
               "HFP": float(np.nanmean([r["HFP"] for r in rows]))}
    lines = [f"| Passband | CC | RE | PPE10 | PPE50 | N | CC paper ({kind}) | "
             f"RE paper ({kind}) | flux ratio | HF power ratio |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['passband']} Å | {_fmt(r['CC'])} | {_fmt(r['RE'])} | "
                     f"{_fmt(r['PPE10'])} | {_fmt(r['PPE50'])} | {r['n']} | "
                     f"{_fmt(r['paper_CC'], 2)} | {_fmt(r['paper_RE'], 2)} | "
                     f"{_fmt(r['FLUX'])} | {_fmt(r['HFP'])} |")
    papers = [r for r in rows if r["paper_CC"] is not None]
    text = (f"\nAverage over {len(rows)} passband(s): CC {_fmt(average['CC'])}, "
            f"|RE| {_fmt(average['abs_RE'])}, PPE10 {_fmt(average['PPE10'])}, "
            f"PPE50 {_fmt(average['PPE50'])}, flux ratio {_fmt(average['FLUX'])}, "
            f"HF power ratio {_fmt(average['HFP'])}")
    if papers:
        text += (f"; paper, model {kind}, same passbands: CC "
                 f"{_fmt(np.mean([r['paper_CC'] for r in papers]), 2)}, |RE| "
                 f"{_fmt(np.mean([abs(r['paper_RE']) for r in papers]), 2)}")
    markdown = "\n".join(lines) + "\n" + text + "\n"
    buffer = io.StringIO()
    fields = ["passband"] + [k for m in METRIC_NAMES + SHARPNESS_NAMES
                             for k in (m, f"{m}_std")] + \
        ["n", "paper_CC", "paper_RE"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r[k] is None else r[k]) for k in fields})
    return markdown, buffer.getvalue(), rows, average


def histogram_png(path, counts, pooled_cc, mean_cc, passbands):
    """2-D histograms of generated against observed values, one panel per passband."""
    from matplotlib.colors import LogNorm

    plt = pyplot()
    n = len(passbands)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 3.2 * rows), dpi=90,
                             squeeze=False)
    lo, hi = _HIST_RANGE
    for k, name in enumerate(passbands):
        ax = axes[k // cols][k % cols]
        image = counts[name].T
        ax.imshow(np.where(image > 0, image, np.nan), origin="lower", extent=(lo, hi, lo, hi),
                  norm=LogNorm(vmin=1, vmax=max(2, image.max())), cmap="viridis",
                  aspect="equal")
        ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.7)
        ax.set_title(f"{name} Å: CC {_fmt(pooled_cc[name])} (pixels), "
                     f"{_fmt(mean_cc[name])} (mean)", fontsize=8)
        ax.set_xlabel("log10(observed + 1) [DN/s]", fontsize=7)
        ax.set_ylabel("log10(generated + 1) [DN/s]", fontsize=7)
        ax.tick_params(labelsize=6)
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].set_axis_off()
    fig.tight_layout()
    save_figure(fig, path)


class _Pooled:
    """Pearson correlation and a 2-D histogram over all pixels, accumulated."""

    def __init__(self):
        self.sums = np.zeros(6)     # n, sx, sy, sxx, syy, sxy
        self.counts = np.zeros((_HIST_BINS, _HIST_BINS))

    def add(self, gen, obs):
        self.sums += [gen.size, obs.sum(), gen.sum(), (obs * obs).sum(), (gen * gen).sum(),
                      (obs * gen).sum()]
        h, _, _ = np.histogram2d(np.log10(obs), np.log10(gen), bins=_HIST_BINS,
                                 range=(_HIST_RANGE, _HIST_RANGE))
        self.counts += h

    def cc(self):
        n, sx, sy, sxx, syy, sxy = self.sums
        var = (sxx - sx * sx / n) * (syy - sy * sy / n) if n else 0.0
        return float((sxy - sx * sy / n) / math.sqrt(var)) if var > 0 else float("nan")


def evaluate_model(trained, data, out_dir, *, split="test", batch_size=4, figures=3,
                   overwrite=False, echo=None):
    """Score ``trained`` on one split and write the table and figures.

    Parameters
    ----------
    trained : solar_euv.inference.trained_model.TrainedModel
    data : str or os.PathLike
        Prepared dataset directory (``solar-euv prepare``).
    out_dir : str or os.PathLike
        Output directory (missing or empty unless ``overwrite``).
    split : str
    batch_size : int
    figures : int
        Number of times with a comparison figure (spread over the split).
    overwrite : bool
    echo : callable, optional
        Prints progress lines.

    Returns
    -------
    Evaluation

    Raises
    ------
    InputError
        A split absent from the data, passbands the data lack, a grid the
        model's does not divide, an output directory with other content.
    """
    from solar_euv.dataset import dataset_info
    from solar_euv.dataset.reading import read_split, split_times
    from solar_euv.inference.generation import generate
    from solar_euv.inference.predict import OutputDirectory

    echo = echo or (lambda line: None)
    if batch_size < 1:
        raise SolarEUVError(f"--batch-size must be at least 1; received {batch_size}")
    info = dataset_info(data)
    passbands = trained.passbands
    dataset, count = read_split(info, split, passbands, trained.image_size, batch_size)
    chosen = _pick_times(split_times(info, split, passbands), figures)
    acc = MetricAccumulator()
    pooled = {b: _Pooled() for b in passbands}
    per_image = []
    with OutputDirectory(out_dir, overwrite) as out:
        done = 0
        for times, gauss, observed in dataset:
            gauss, observed = gauss.numpy(), observed.numpy()
            generated = generate(trained, gauss, batch_size=batch_size).data
            for i, t in enumerate(times.numpy()):
                t = t.decode()
                for c, band in enumerate(passbands):
                    result = acc.add(band, generated[i, ..., c], observed[i, ..., c])
                    per_image.append({"time": t, "passband": band, **result})
                    pooled[band].add(prepare_for_metrics(generated[i, ..., c]),
                                     prepare_for_metrics(observed[i, ..., c]))
                if t in chosen:
                    tag = t.replace(":", "").replace(".000", "")
                    comparison_png(out.stage(f"compare.{tag}.png"), gauss[i], observed[i],
                                   generated[i], passbands, title=t)
            done += len(gauss)
            echo(f"{done}/{count} examples")
        if done == 0:
            raise InputError(info["root"], f"split {split!r} yielded no example")
        summary = acc.summary()
        markdown, csv_text, rows, average = metrics_table(summary, passbands, trained.kind)
        head = (f"Model {trained.label} (model {trained.kind}, {trained.image_size} px), "
                f"data {info['root']}, split {split}, {done} examples.\n\n")
        out.stage("metrics.md").write_text(head + markdown)
        out.stage("metrics.csv").write_text(csv_text)
        record = {"model": str(trained.path), "model_sha256": trained.sha256,
                  "model_kind": trained.kind, "image_size": trained.image_size,
                  "scaling": trained.scaling.to_dict(), "data": info["root"], "split": split,
                  "examples": done, "passbands": rows, "average": average,
                  "pooled_CC": {b: pooled[b].cc() for b in passbands},
                  "paper": "Park et al. 2019, ApJL 884, L23, test set 2017 Jul-Dec"}
        out.stage("metrics.json").write_text(json.dumps(record, indent=2) + "\n")
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["time", "passband", *METRIC_NAMES,
                                                *SHARPNESS_NAMES],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(per_image)
        out.stage("per_image.csv").write_text(buffer.getvalue())
        histogram_png(out.stage("histogram2d.png"), {b: pooled[b].counts for b in passbands},
                      {b: pooled[b].cc() for b in passbands},
                      {b: summary[b]["CC"] for b in passbands}, passbands)
        files = out.commit()
    return Evaluation(summary=summary, average=average, table=markdown, examples=done,
                      files=files)
