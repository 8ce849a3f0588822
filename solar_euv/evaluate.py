"""Evaluate a trained model on a split of a prepared dataset: the paper's table and figures.

:func:`evaluate_model` reads every example of the split that has the
model's passbands, in physical units (Gauss, DN/s), reduced to the model's
grid by whole-block averaging as in training; it generates each image with
:func:`solar_euv.inference.generate` (the network input scaled and masked
exactly as in training, the output in DN/s with 0 beyond ``mask_radius *
R``) and scores it against the *unmasked* observed image with
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
import pathlib

import numpy as np

from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.metrics import (METRIC_NAMES, PAPER_TABLE, SHARPNESS_NAMES, MetricAccumulator,
                               prepare_for_metrics)
from solar_euv.passbands import HMI, get_passband
from solar_euv.scaling import disk_mask

__all__ = ["Evaluation", "evaluate_model", "read_split", "metrics_table", "comparison_png",
           "histogram_png"]

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


def read_split(data, split, passbands, image_size, batch_size=4):
    """Batches of one split in physical units, in stored order, with times.

    Parameters
    ----------
    data : str, os.PathLike or dict
        Dataset directory (or :func:`~solar_euv.dataset.dataset_info` result).
    split : str
    passbands : sequence of str
    image_size : int
        Must divide the stored grid size (whole-block averaging).
    batch_size : int

    Returns
    -------
    (tf.data.Dataset, int)
        Elements ``(time [B] string, gauss [B, n, n], observed [B, n, n, C])``
        (NaN stored pixels count as 0), and the number of examples.

    Raises
    ------
    InputError
        A missing split or passband, no usable example, a missing shard.
    """
    import tensorflow as tf

    from solar_euv.dataset import count_examples, dataset_info, verify_shards
    from solar_euv.dataset.pipeline import area_downsample
    from solar_euv.dataset.records import decode_image, parse_examples

    info = data if isinstance(data, dict) else dataset_info(data)
    root = pathlib.Path(info["root"])
    stored = [c["name"] for c in info["channels"]]
    absent = [p for p in passbands if p not in stored]
    if absent:
        raise InputError(root, f"was prepared without passband(s) {', '.join(absent)} "
                               "that the model generates")
    count = count_examples(info, split, passbands)
    if count == 0:
        raise InputError(root, f"split {split!r} has no example with passband(s) "
                               f"{', '.join(passbands)}")
    verify_shards(info, split, full=False)
    size = int(info["grid"]["size"])
    if size % image_size:
        raise InputError(root, f"has a {size} px grid, which the model's {image_size} px "
                               "grid does not divide")
    factor = size // image_size
    channels = (HMI.name,) + tuple(passbands)
    files = [str(root / s["file"]) for s in info["splits"][split]["shards"]
             if s.get("examples", 1) > 0]

    def parse(record):
        f = parse_examples(record, channels)
        present = tf.reduce_all(tf.stack([f[f"{c}/present"] > 0 for c in channels]))
        return present, f["time"], tuple(f[f"{c}/image"] for c in channels)

    def decode(present, time, raw):
        images = []
        for r in raw:
            x = decode_image(r, size)
            images.append(area_downsample(tf.where(tf.math.is_nan(x), 0.0, x), factor))
        return time, images[0], tf.stack(images[1:], axis=-1)

    ds = tf.data.TFRecordDataset(files).map(parse, num_parallel_calls=tf.data.AUTOTUNE,
                                            deterministic=True)
    ds = ds.filter(lambda present, time, raw: present)
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(2), count


def _split_times(data, split, passbands):
    """Times of the usable examples of a split (reads only the small features)."""
    import tensorflow as tf

    from solar_euv.dataset import dataset_info

    info = data if isinstance(data, dict) else dataset_info(data)
    root = pathlib.Path(info["root"])
    channels = (HMI.name,) + tuple(passbands)
    spec = {"time": tf.io.FixedLenFeature([], tf.string)}
    spec.update({f"{c}/present": tf.io.FixedLenFeature([], tf.int64, default_value=0)
                 for c in channels})
    files = [str(root / s["file"]) for s in info["splits"][split]["shards"]
             if s.get("examples", 1) > 0]
    times = []
    for record in tf.data.TFRecordDataset(files).batch(256):
        f = tf.io.parse_example(record, spec)
        ok = np.all(np.stack([f[f"{c}/present"].numpy() > 0 for c in channels]), axis=0)
        times.extend(t.decode() for t, keep in zip(f["time"].numpy(), ok) if keep)
    return times


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


def comparison_png(path, time, gauss, observed, generated, passbands):
    """Magnetogram | observed | generated | difference, one row per passband.

    ``gauss`` is ``(N, N)`` in G; ``observed`` and ``generated`` are
    ``(N, N, C)`` in DN/s.  The difference (generated - observed, DN/s) uses
    a symmetric linear range at the 99th percentile of its magnitude on the
    disk.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sunpy.visualization.colormaps  # noqa: F401  (registers the sdoaia maps)
    from matplotlib.colors import LogNorm

    rows = len(passbands)
    on_disk = disk_mask(gauss.shape[0])
    fig, axes = plt.subplots(rows, 4, figsize=(8.8, 2.3 * rows + 0.4), dpi=90,
                             squeeze=False)
    for c, name in enumerate(passbands):
        band = get_passband(name)
        norm = LogNorm(vmin=band.vmin, vmax=band.vmax, clip=True)
        diff = generated[..., c] - observed[..., c]
        limit = max(float(np.percentile(np.abs(diff[on_disk]), 99)), 1.0)
        panels = [
            (gauss, dict(cmap="gray", vmin=HMI.vmin, vmax=HMI.vmax), "HMI magnetogram (G)"),
            (np.clip(observed[..., c], band.vmin, None), dict(cmap=band.cmap, norm=norm),
             f"AIA {name} Å observed"),
            (np.clip(generated[..., c], band.vmin, None), dict(cmap=band.cmap, norm=norm),
             f"AIA {name} Å generated"),
            (diff, dict(cmap="RdBu_r", vmin=-limit, vmax=limit),
             f"generated - observed (±{limit:.3g} DN/s)"),
        ]
        for ax, (image, style, title) in zip(axes[c], panels):
            ax.imshow(image, origin="lower", **style)
            ax.set_title(title, fontsize=7)
            ax.set_axis_off()
    height = 2.3 * rows + 0.4
    fig.suptitle(time, fontsize=9)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 1.0 - 0.35 / height))
    fig.savefig(path, format="png")
    plt.close(fig)


def histogram_png(path, counts, pooled_cc, mean_cc, passbands):
    """2-D histograms of generated against observed values, one panel per passband."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

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
    fig.savefig(path, format="png")
    plt.close(fig)


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
    trained : solar_euv.inference.TrainedModel
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
    from solar_euv.inference import OutputDirectory, generate

    echo = echo or (lambda line: None)
    if batch_size < 1:
        raise SolarEUVError(f"--batch-size must be at least 1; received {batch_size}")
    info = dataset_info(data)
    passbands = trained.passbands
    dataset, count = read_split(info, split, passbands, trained.image_size, batch_size)
    chosen = _pick_times(_split_times(info, split, passbands), figures)
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
                    comparison_png(out.stage(f"compare.{tag}.png"), t, gauss[i],
                                   observed[i], generated[i], passbands)
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
