"""One-setting-at-a-time learning measurements, in memory (the figures of docs/learning.md).

Loads the prepared embedded sample once (``make_dataset`` at 128 px, physical
units), then trains ``build_pix2pix`` with ``Pix2Pix.fit`` on in-memory
tensors (no TFRecord reading between measurements) and prints the mean
validation CC (:func:`solar_euv.metrics.image_metrics`) every ``--every``
steps.  Each setting the learning issue asked about is an option::

    python -m benchmarks.learn_ablation --offdisk -1 --lr 2e-4 --decay none   # the earlier setting
    python -m benchmarks.learn_ablation --offdisk 0 --lr 1e-3 --decay linear  # the quick preset
    python -m benchmarks.learn_ablation --transform asinh --dropout 0 ...

Results are appended to ``--log`` (JSON lines, with the machine);
``--table-from LOG --out DIR`` turns such a log into the results table
``learn_ablation_runs.json`` (one row per run: its options, the CC at each
validation, seconds).  Not the training path of
``solar-euv-train`` (use ``python -m benchmarks learn`` for that); the
augmentation here is a random crop of the reflect-padded pair, as the
pipeline's shake.
"""
import argparse
import json
import os
import pathlib
import shlex
import sys
import time

import numpy as np


def _load(data, size):
    from solar_euv.dataset import make_dataset
    from solar_euv.passbands import PASSBAND_NAMES
    from solar_euv.scaling import Scaling

    physical = Scaling(hmi_limit=1e5, mask_off_disk=False)
    out = {}
    for split in ("train", "validation"):
        xs, ys = [], []
        for x, y in make_dataset(data, split, PASSBAND_NAMES, 8, training=False,
                                 image_size=size, scaling=physical):
            xs.append(x.numpy()[..., 0] * 1e5)
            ys.append(physical.aia_from_network(y.numpy()))
        out[split] = (np.concatenate(xs), np.concatenate(ys))
    return list(PASSBAND_NAMES), out


def _options_text(args, defaults):
    """The options of a logged run that differ from the defaults, as on the command line."""
    skip = {"log", "data", "table_from", "out"}
    parts = []
    for key, value in args.items():
        if key in skip or defaults.get(key, object()) == value:
            continue
        flag = "--" + key.replace("_", "-")
        parts.append(flag if value is True else f"{flag} {value}")
    return " ".join(parts)


def ablation_table(log_lines, defaults, *, command, machine, notes=()):
    """The results table of a ``--log`` file's runs (a dict for benchmarks/results).

    Parameters
    ----------
    log_lines : iterable of str
        JSON lines as ``--log`` writes them.
    defaults : dict
        The options' defaults (a row lists only the options that differ).
    command : str
    machine : dict
        :func:`benchmarks.common.machine_info` of the process making the table.
    notes : sequence of str
        Recorded with the table.

    Returns
    -------
    dict
    """
    from benchmarks.common import results_table

    runs = [json.loads(line) for line in log_lines if line.strip()]
    every = sorted({step for run in runs for step, _, _ in run["curve"]})
    rows = []
    for run in runs:
        args = run["args"]
        by_step = {step: cc for step, _, cc in run["curve"]}
        options = _options_text(args, defaults)
        rows.append([args["band"], f"`{options}`" if options else "(the defaults)"]
                    + [f"{by_step[s]:.3f}" if s in by_step else "" for s in every]
                    + [f"{run['curve'][-1][1]:.0f}", run.get("machine", "not recorded")])
    return results_table(
        "One setting at a time (python -m benchmarks.learn_ablation): validation CC of the "
        "embedded sample's 21 validation images after each number of steps",
        ["passband", "options (beyond the defaults)"] + [f"{s}" for s in every]
        + ["training s", "machine of the run"], rows, command=command, machine=machine,
        notes=list(notes))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="prepared dataset (default: the embedded sample)")
    p.add_argument("--band", default="171")
    p.add_argument("--model", default="A", choices=("A", "B"))
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--every", type=int, default=200)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--d-lr", type=float, help="discriminator rate (default: --lr)")
    p.add_argument("--decay", default="none", choices=("none", "linear"))
    p.add_argument("--filters", type=int, default=32)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--limit", type=float, default=1000.0, help="magnetogram clip (G)")
    p.add_argument("--transform", default="linear", choices=("linear", "asinh"),
                   help="asinh: asinh(B / 30 G) / asinh(limit / 30 G)")
    p.add_argument("--offdisk", type=float, default=-1.0,
                   help="network value of the magnetogram beyond 0.99 R")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--mask-radius", type=float, default=0.99,
                   help="radius (solar radii) beyond which input and target are off-disk")
    p.add_argument("--disk-loss", action="store_true",
                   help="L1 (and D) on the disk only (Pix2Pix.compile disk_radius)")
    p.add_argument("--augment", default="none", choices=("none", "flips", "sign", "flips+sign"),
                   help="random flips/quarter turns of image pairs and/or magnetogram sign")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log", default="learn_ablation.jsonl")
    p.add_argument("--table-from", metavar="LOG",
                   help="write learn_ablation_runs.json from this log into --out; no training")
    p.add_argument("--out", help="directory for --table-from")
    p.add_argument("--note", action="append", default=[],
                   help="a note recorded with --table-from's table (e.g. the machine of runs "
                        "logged before the log recorded it)")
    a = p.parse_args(argv)
    if a.table_from:
        from benchmarks.common import machine_info, write_files

        defaults = vars(p.parse_args([]))
        with open(a.table_from) as fh:
            table = ablation_table(fh, defaults, machine=machine_info(), notes=a.note,
                                   command="python -m benchmarks.learn_ablation "
                                           + shlex.join(argv if argv is not None
                                                        else sys.argv[1:]))
        write_files(pathlib.Path(a.out or "."), [("learn_ablation_runs.json",
                                                  json.dumps(table, indent=1) + "\n")])
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from solar_euv.metrics import image_metrics
    from solar_euv.models import LinearDecay, build_pix2pix, paper_optimizers
    from solar_euv.scaling import Scaling, disk_mask
    from solar_euv.training import default_data_dir

    bands, data = _load(a.data or default_data_dir(), a.size)
    c = bands.index(a.band)
    n = a.size
    inside = disk_mask(n, a.mask_radius)
    scaling = Scaling(hmi_limit=a.limit)

    def net_in(g):
        if a.transform == "linear":
            v = np.clip(g / a.limit, -1, 1)
        else:
            v = np.clip(np.arcsinh(g / 30.0) / np.arcsinh(a.limit / 30.0), -1, 1)
        return np.where(inside, v, a.offdisk)[..., None].astype(np.float32)

    def net_out(dn):
        v = scaling.aia_to_network(dn[..., c:c + 1])
        v[:, ~inside, :] = -1.0
        return v

    x_train, y_train = net_in(data["train"][0]), net_out(data["train"][1])
    x_val, observed = net_in(data["validation"][0]), data["validation"][1][..., c]
    keras.utils.set_random_seed(a.seed)
    pad = n // 64 - 1

    def shake(x, y):
        xy = tf.pad(tf.concat([x, y], -1), [[pad, pad], [pad, pad], [0, 0]], "REFLECT")
        xy = tf.image.random_crop(xy, [n, n, 2])
        x, y = xy[..., :1], xy[..., 1:]
        if "flips" in a.augment:
            xy = tf.concat([x, y], -1)
            xy = tf.image.rot90(xy, tf.random.uniform([], 0, 4, tf.int32))
            xy = tf.image.random_flip_left_right(xy)
            x, y = xy[..., :1], xy[..., 1:]
        if "sign" in a.augment:
            x = tf.where(tf.random.uniform([]) < 0.5, x, -x)
        return x, y

    ds = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
          .shuffle(len(x_train), seed=a.seed).repeat().map(shake)
          .batch(a.batch, drop_remainder=True).prefetch(2))
    model = build_pix2pix(n, model=a.model, base_filters=a.filters, dropout_rate=a.dropout)
    lr = LinearDecay(a.lr, a.steps) if a.decay == "linear" else a.lr
    g_opt, d_opt = paper_optimizers(lr, d_learning_rate=a.d_lr or None)
    model.compile(g_opt, d_opt, gan_weight=1.0 if a.model == "B" else 0.0,
                  disk_radius=a.mask_radius if a.disk_loss else None)
    generate = tf.function(lambda x: model.generator(x, training=False))
    start, curve = time.perf_counter(), []
    for k in range(a.steps // a.every):
        model.fit(ds, epochs=1, steps_per_epoch=a.every, verbose=0)
        fake = np.concatenate([generate(x_val[i:i + 8]).numpy()
                               for i in range(0, len(x_val), 8)])[..., 0]
        cc = float(np.mean([image_metrics(scaling.aia_from_network(f), o)["CC"]
                            for f, o in zip(fake, observed)]))
        curve.append(((k + 1) * a.every, round(time.perf_counter() - start, 1), cc))
        print(f"step {(k + 1) * a.every}: {a.band} CC {cc:.3f}", flush=True)
    from benchmarks.common import machine_info, machine_line

    with open(a.log, "a") as fh:
        fh.write(json.dumps({"args": vars(a), "curve": curve,
                             "machine": machine_line(machine_info())}) + "\n")


if __name__ == "__main__":
    main()
