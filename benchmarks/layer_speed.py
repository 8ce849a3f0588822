"""Speed of this project's layers against the Keras layers they replace.

Times, interleaved in one process, the forward pass and the gradients (with
respect to the input and the weights) of

* ``convt``: :class:`keras.layers.Conv2DTranspose` against
  :class:`~solar_euv.models.matmul_conv2d_transpose.MatmulConv2DTranspose`
  forced onto its matrix product, for each decoder shape of the U-Net
  (kernel 4, stride 2, "same"): the measurement behind ``MATMUL_MAX_PIXELS``;
* ``logits``: :class:`keras.layers.Conv2D` against
  :class:`~solar_euv.models.matmul_conv2d.MatmulConv2D` for the PatchGAN's
  512 -> 1 logit convolution (kernel 4, stride 1, valid) at 256, 512 and
  1024 px;
* ``pair``: :class:`keras.layers.Conv2D` against
  :class:`~solar_euv.models.matmul_conv2d.MatmulConv2D` for the PatchGAN's
  first convolution (the padded two-channel pair -> 64 filters, kernel 4,
  stride 2, valid) at 256, 512 and 1024 px: the measurement behind
  ``MATMUL_MAX_INPUT_CHANNELS`` (``--pair-channels`` times other widths);
* ``bn``: :class:`keras.layers.BatchNormalization` (``synchronized=True``,
  as the networks build it) against
  :class:`~solar_euv.models.fused_batch_normalization.FusedBatchNormalization`,
  each followed by a LeakyReLU, in training mode;

and prints milliseconds (median) and the ratio Keras / this project.  The
project's layers take their fast paths whatever the detected device kind
(:func:`solar_euv.device.using_device_kind` of the measured kind): the
table measures whether those paths pay off on this machine, to fill
:data:`solar_euv.device.FAST_PATHS` for its kind.

Run::

    python benchmarks/layer_speed.py
    python benchmarks/layer_speed.py --what logits,bn --precision mixed_bfloat16
    python benchmarks/layer_speed.py --what pair --pair-channels 2,4,10
    python benchmarks/layer_speed.py --repeat 15 --json layer_speed.json
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["CONVT_SHAPES", "LOGITS_SIZES", "PAIR_SIZES", "BN_SHAPES", "measure"]

#: (input pixels per side, input channels, output channels) of the default
#: U-Net's decoder at 256-1024 px (base 64 filters, 512 at most).
CONVT_SHAPES = [(4, 512, 512), (8, 1024, 512), (16, 1024, 512), (32, 1024, 512),
                (32, 1024, 256), (64, 512, 128), (128, 256, 64), (256, 128, 1)]
#: Input side (after the 1-pixel zero padding) of the PatchGAN logit layer at 256-1024 px.
LOGITS_SIZES = [33, 65, 129]
#: Input side (after the 1-pixel zero padding) of the PatchGAN's first layer at 256-1024 px.
PAIR_SIZES = [258, 514, 1026]
#: (side, channels) of BatchNorm inputs of the networks.
BN_SHAPES = [(512, 64), (256, 128), (128, 256), (64, 512), (16, 512), (4, 512)]


def _pairs(what, precision, shapes=None):
    """(label, input shape, stock layer, project layer) to time."""
    import keras

    from solar_euv.models.fused_batch_normalization import FusedBatchNormalization
    from solar_euv.models.matmul_conv2d import MatmulConv2D
    from solar_euv.models.matmul_conv2d_transpose import MatmulConv2DTranspose

    if what == "convt":
        for size, cin, cout in shapes or CONVT_SHAPES:
            kwargs = dict(filters=cout, kernel_size=4, strides=2, padding="same",
                          use_bias=False, dtype=precision)
            ours = MatmulConv2DTranspose(**kwargs)
            ours.max_matmul_pixels = size * size  # always the matrix product
            yield (f"{size}x{size}x{cin} -> {2 * size}x{2 * size}x{cout}",
                   (1, size, size, cin), keras.layers.Conv2DTranspose(**kwargs), ours)
    elif what == "logits":
        for size, cin in shapes or [(s, 512) for s in LOGITS_SIZES]:
            kwargs = dict(filters=1, kernel_size=4, strides=1, padding="valid",
                          use_bias=False, dtype=precision)
            yield (f"{size}x{size}x{cin} -> {size - 3}x{size - 3}x1", (1, size, size, cin),
                   keras.layers.Conv2D(**kwargs), MatmulConv2D(**kwargs))
    elif what == "pair":
        for size, cin in shapes or [(s, 2) for s in PAIR_SIZES]:
            kwargs = dict(filters=64, kernel_size=4, strides=2, padding="valid",
                          use_bias=False, dtype=precision)
            out = (size - 4) // 2 + 1
            yield (f"{size}x{size}x{cin} -> {out}x{out}x64", (1, size, size, cin),
                   keras.layers.Conv2D(**kwargs), MatmulConv2D(**kwargs))
    elif what == "bn":
        for size, channels in shapes or BN_SHAPES:
            kwargs = dict(momentum=0.9, epsilon=1.01e-5, synchronized=True, dtype=precision)
            yield (f"{size}x{size}x{channels}", (1, size, size, channels),
                   keras.layers.BatchNormalization(**kwargs),
                   FusedBatchNormalization(**kwargs))
    else:
        raise ValueError(f"unknown layer group {what!r}: use convt, logits, pair or bn")


def _step(layer, x, training):
    import tensorflow as tf

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True) if training else layer(x)
            y = tf.nn.leaky_relu(y, 0.2) if training else y
            loss = tf.reduce_sum(tf.cast(y, "float32") * tf.cast(y, "float32"))
        return tape.gradient(loss, [x] + [w.value for w in layer.trainable_weights])

    return step


def measure(groups=("convt", "logits", "bn"), precision="float32", repeat=9, shapes=None):
    """Median milliseconds (forward + gradients) of each stock / project layer pair.

    Parameters
    ----------
    groups : iterable of str
        ``"convt"``, ``"logits"``, ``"bn"``.
    precision : str
        Keras dtype policy of the layers (``"float32"``, ``"mixed_bfloat16"``).
    repeat : int
        Timed calls per layer (interleaved, after two untimed ones).
    shapes : dict, optional
        Other shapes per group: ``convt`` (side, in, out), ``logits`` (side,
        in), ``pair`` (side, in), ``bn`` (side, channels); default the
        networks' own.

    Returns
    -------
    list of dict
        ``group``, ``shape``, ``keras_ms``, ``project_ms`` and ``ratio``
        (Keras time / this project's time).
    """
    import tensorflow as tf

    from solar_euv.device import MEASURED_KIND, using_device_kind

    with using_device_kind(MEASURED_KIND):
        return _measure(groups, precision, repeat, shapes, tf)


def _measure(groups, precision, repeat, shapes, tf):
    rows = []
    for group in groups:
        for label, shape, stock, ours in _pairs(group, precision, (shapes or {}).get(group)):
            for layer in (stock, ours):
                layer.build(shape)
            ours.set_weights(stock.get_weights())
            x = tf.cast(tf.random.stateless_normal(shape, seed=(1, 2)),
                        stock.compute_dtype)
            steps = {"keras": _step(stock, x, group == "bn"),
                     "project": _step(ours, x, group == "bn")}
            times = {name: [] for name in steps}
            for step in steps.values():
                step()
                step()
            for _ in range(repeat):
                for name, step in steps.items():  # interleaved: load hits both alike
                    t0 = time.perf_counter()
                    float(tf.reduce_sum(tf.cast(step()[-1], "float32")))
                    times[name].append(time.perf_counter() - t0)
            row = {"group": group, "shape": label, "precision": precision}
            for name, values in times.items():
                row[f"{name}_ms"] = 1e3 * statistics.median(values)
            row["ratio"] = row["keras_ms"] / row["project_ms"]
            rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", default="convt,logits,pair,bn",
                        help="comma list of convt, logits, pair, bn")
    parser.add_argument("--pair-channels", default="2",
                        help="comma list of input channels for the pair group (default 2: "
                             "one magnetogram + one passband)")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--out", help="write the results table layer_speed_<kind>.json "
                                      "(machine, command, rows) into this directory")
    args = parser.parse_args(argv)
    from solar_euv.device import device_kind

    print(f"device kind: {device_kind()}", flush=True)
    channels = [int(c) for c in args.pair_channels.split(",")]
    pair = [(size, c) for c in channels for size in PAIR_SIZES]
    rows = measure(args.what.split(","), args.precision, args.repeat, {"pair": pair})
    print("| layer | shape | precision | Keras ms | solar_euv ms | Keras / solar_euv |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['group']} | {r['shape']} | {r['precision']} | {r['keras_ms']:.2f} "
              f"| {r['project_ms']:.2f} | {r['ratio']:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    if args.out:
        _write_table(args, rows, argv)
    return 0


def _write_table(args, rows, argv):
    """``layer_speed_<device kind>.json`` in ``args.out``: a results table of the rows."""
    import os
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    from benchmarks.common import machine_info, results_table, write_files
    from solar_euv.device import device_kind

    isa = os.environ.get("ONEDNN_MAX_CPU_ISA")
    command = ((f"ONEDNN_MAX_CPU_ISA={isa} " if isa else "") + "python benchmarks/layer_speed.py "
               + " ".join(argv if argv is not None else sys.argv[1:]))
    table = results_table(
        f"This project's layers against the Keras layers they replace, forward + gradients, "
        f"median of {args.repeat} interleaved repeats (device kind {device_kind()})",
        ["layer", "shape", "precision", "Keras ms", "solar_euv ms", "Keras / solar_euv"],
        [[r["group"], r["shape"], r["precision"], f"{r['keras_ms']:.2f}",
          f"{r['project_ms']:.2f}", f"{r['ratio']:.2f}"] for r in rows],
        command=command, machine=machine_info())
    write_files(pathlib.Path(args.out), [(f"layer_speed_{device_kind()}.json",
                                          json.dumps(table, indent=1) + "\n")])


if __name__ == "__main__":
    raise SystemExit(main())
