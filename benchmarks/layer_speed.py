"""Speed of the generator's transposed convolutions: Keras's kernel vs the matrix product.

For each decoder shape of the U-Net (kernel 4, stride 2, "same"), times the
forward pass and both gradients of :class:`keras.layers.Conv2DTranspose`
(TensorFlow's ``conv2d_transpose``) and of the matrix-product formulation of
:class:`solar_euv.models.matmul_conv2d_transpose.MatmulConv2DTranspose`,
interleaved in one process, and prints milliseconds, GFLOP/s and the ratio.
It is the measurement behind ``MATMUL_MAX_PIXELS``.

Run::

    python benchmarks/layer_speed.py
    python benchmarks/layer_speed.py --repeat 15 --json layer_speed.json
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["SHAPES", "measure"]

#: (input pixels per side, input channels, output channels) of the default
#: U-Net's decoder at 256-1024 px (base 64 filters, 512 at most).
SHAPES = [(4, 512, 512), (8, 1024, 512), (16, 1024, 512), (32, 1024, 512),
          (32, 1024, 256), (64, 512, 128), (128, 256, 64), (256, 128, 1)]


def _layers(channels_in, channels_out, size):
    import keras

    from solar_euv.models.matmul_conv2d_transpose import MatmulConv2DTranspose

    kwargs = dict(filters=channels_out, kernel_size=4, strides=2, padding="same",
                  use_bias=False)
    keras_layer = keras.layers.Conv2DTranspose(**kwargs)
    matmul_layer = MatmulConv2DTranspose(**kwargs)
    for layer in (keras_layer, matmul_layer):
        layer.build((1, size, size, channels_in))
    matmul_layer.set_weights(keras_layer.get_weights())
    matmul_layer.max_matmul_pixels = size * size  # always the matrix product
    return keras_layer, matmul_layer


def _step(layer, x, dy):
    import tensorflow as tf

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
        return tape.gradient(y, [x, layer.kernel.value], output_gradients=dy)

    return step


def measure(shapes=SHAPES, repeat=9):
    """Median milliseconds (forward + both gradients) per shape and implementation.

    Returns
    -------
    list of dict
        ``size``, ``channels_in``, ``channels_out``, ``gflop``, ``keras_ms``,
        ``matmul_ms`` and ``ratio`` (Keras time / matrix-product time).
    """
    import tensorflow as tf

    rows = []
    for size, channels_in, channels_out in shapes:
        keras_layer, matmul_layer = _layers(channels_in, channels_out, size)
        x = tf.random.stateless_normal((1, size, size, channels_in), seed=(1, 2))
        dy = tf.random.stateless_normal((1, 2 * size, 2 * size, channels_out), seed=(3, 4))
        steps = {"keras": _step(keras_layer, x, dy), "matmul": _step(matmul_layer, x, dy)}
        times = {name: [] for name in steps}
        for step in steps.values():
            step()
        for _ in range(repeat):
            for name, step in steps.items():  # interleaved: load hits both alike
                t0 = time.perf_counter()
                float(tf.reduce_sum(step()[1]))
                times[name].append(time.perf_counter() - t0)
        gflop = 3 * 2 * size * size * 16 * channels_in * channels_out / 1e9
        row = {"size": size, "channels_in": channels_in, "channels_out": channels_out,
               "gflop": gflop}
        for name, values in times.items():
            row[f"{name}_ms"] = 1e3 * statistics.median(values)
        row["ratio"] = row["keras_ms"] / row["matmul_ms"]
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows = measure(repeat=args.repeat)
    print("| input | in ch | out ch | Keras ms | matmul ms | Keras GFLOP/s | "
          "matmul GFLOP/s | Keras / matmul |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['size']}x{r['size']} | {r['channels_in']} | {r['channels_out']} "
              f"| {r['keras_ms']:.1f} | {r['matmul_ms']:.1f} "
              f"| {r['gflop'] / r['keras_ms'] * 1e3:.0f} "
              f"| {r['gflop'] / r['matmul_ms'] * 1e3:.0f} | {r['ratio']:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
