"""Training speed of Pix2Pix, side by side with a loop written like the authors'.

Everything in one process on one device, interleaved: each round times a few
steps of every configuration of one group (model, image size and batch),
each followed by one large matmul per precision, so a noisy, shared machine
slows all of them alike.  The reported step time is the median over all
timed steps; the CPU time of this process per step is recorded too, and
the FLOP fraction of the peak is given both per wall-clock second and per
CPU second (the second is less sensitive to other processes on the cores).

What is measured
----------------
* ``project``: :class:`solar_euv.models.Pix2Pix` exactly as ``fit`` runs it
  (``model.make_train_function()`` on an iterator over in-memory tensors),
  compiled with :func:`solar_euv.models.paper_optimizers`, in float32 or
  mixed_bfloat16 (mixed_float16 on a GPU), with and without ``jit_compile``.
* ``authors``: the same generator and discriminator (same architecture,
  float32) trained by a plain ``tf.function`` step with two
  ``tf.GradientTape`` and two stock :class:`keras.optimizers.Adam`, sigmoid
  outputs and ``log(x + 1e-12)`` cross-entropies, as in the authors' TF2
  notebook.  Its speed is the reference of the ``vs authors`` ratios.
* ``matmul``: a ``4096 x 4096`` matmul in the same precision on the same
  device, the peak that the achieved FLOP/s are compared with.

FLOP count
----------
The floating-point work of one training step is counted from the graph of
the concrete function of ``Pix2Pix.train_step`` (float32 graph), summed over
the ops that run: those a graph output or a stateful op (variable update)
depends on.  Each convolution op (``Conv2D``, ``Conv2DBackpropInput``,
``Conv2DBackpropFilter``) counts 2 x its multiply-adds from its own tensor
shapes; every other op counts TensorFlow's per-op ``"flops"`` statistic
(the one ``tf.compat.v1.profiler`` reports as ``float_operation``; the
small convolutions that the networks compute as matrix products, see
:mod:`solar_euv.models.matmul_conv2d`, count as ``MatMul``).  In the
JSON: ``flops_per_step`` is that count; ``flops_graph_tf_stats`` the same
ops with TensorFlow's statistics for the convolutions too (these overstate
the backward pass of valid-padded convolutions, +6 % for Model B at 256
px); ``flops_graph_all`` the raw profiler total over every op of the graph,
including gradient ops that the runtime prunes (the discriminator's weight
gradients in the generator's tape); ``flops_analytic`` the convolutions of
the networks by the convention of the reference note (generator forward x3
+ discriminator forward x7; Model A: generator forward x3).
"""
import dataclasses
import gc
import resource
import statistics
import sys
import time

from benchmarks.common import machine_info

__all__ = ["MODES", "run_benchmark", "count_step_flops", "analytic_step_flops",
           "matmul_peak"]

#: What ``--quick``, the default and ``--full`` measure.
MODES = {
    "quick": {"models": ["A", "B"], "sizes": [256], "batches": [1],
              "precisions": ["float32", "mixed_bfloat16"], "xla": [False],
              "rounds": 3, "steps": 2, "warmup": 1, "matmul_size": 4096},
    "standard": {"models": ["A", "B"], "sizes": [256, 512], "batches": [1],
                 "precisions": ["float32", "mixed_bfloat16"], "xla": [False, True],
                 "rounds": 5, "steps": 2, "warmup": 2, "matmul_size": 4096},
    "full": {"models": ["A", "B"], "sizes": [256, 512, 1024], "batches": [1, 4],
             "precisions": ["float32", "mixed_bfloat16"], "xla": [False, True],
             "rounds": 5, "steps": 2, "warmup": 2, "matmul_size": 4096},
}


def supported_precisions(requested, explicit=True):
    """``requested`` minus the precisions this device cannot run well.

    mixed_float16 needs a GPU; mixed_bfloat16 is left out of a mode's
    defaults (``explicit=False``) on CPUs without native bfloat16, where it
    is emulated and about ten times slower than float32.
    """
    from solar_euv.device import device_kind, native_bfloat16

    kind = device_kind()
    keep = [p for p in requested if p != "mixed_float16" or kind == "gpu"]
    if not explicit and kind.startswith("cpu") and not native_bfloat16(kind):
        keep = [p for p in keep if p != "mixed_bfloat16"]
    return keep


# -- memory --------------------------------------------------------------------
def _reset_peak_rss():
    """Reset the kernel's peak-RSS counter of this process (Linux; no-op elsewhere)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb():
    """Peak resident memory of this process in MiB (since the last reset on Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def gpu_peak_mb():
    """Peak GPU memory in MiB of the first GPU, or None without a GPU."""
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        return None
    try:
        return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    except (ValueError, RuntimeError):
        return None


# -- FLOPs -------------------------------------------------------------------------
def _executed_ops(graph):
    """Ops of ``graph`` that run: ancestors of the outputs and of stateful ops."""
    roots = [t.op for t in graph.outputs]
    roots += [op for op in graph.get_operations() if op.op_def and op.op_def.is_stateful]
    seen, stack = set(), list(roots)
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return seen


def count_step_flops(model, image_size, batch=1, in_channels=1, out_channels=1):
    """Floating-point operations of one ``train_step``, counted from its graph.

    Parameters
    ----------
    model : solar_euv.models.Pix2Pix
        A compiled model.
    image_size, batch, in_channels, out_channels : int
        Shape of one batch.

    Returns
    -------
    dict
        ``executed`` (ops that run; convolutions counted exactly, see
        :func:`_conv_op_flops`), ``executed_tf_stats`` (the same ops with
        TensorFlow's own statistics), ``all`` (every op of the graph with
        TensorFlow's statistics: what ``tf.compat.v1.profiler``
        ``float_operation`` reports) and ``by_type`` (executed, per op
        type), in FLOP.
    """
    import tensorflow as tf
    from tensorflow.python.framework import ops as tf_ops

    x = tf.TensorSpec((batch, image_size, image_size, in_channels), tf.float32)
    y = tf.TensorSpec((batch, image_size, image_size, out_channels), tf.float32)
    graph = tf.function(model.train_step).get_concrete_function((x, y)).graph
    executed = _executed_ops(graph)
    total_all, total_run, tf_run, by_type = 0, 0, 0, {}
    for op in graph.get_operations():
        try:
            tf_flops = tf_ops.get_stats_for_node_def(graph, op.node_def, "flops").value
        except ValueError:  # no statistics registered for this op type
            tf_flops = None
        flops = _conv_op_flops(op)
        if flops is None:
            flops = tf_flops
        if not flops:
            continue
        flops = int(flops)
        total_all += int(tf_flops or 0)
        if op in executed:
            total_run += flops
            tf_run += int(tf_flops or 0)
            by_type[op.type] = by_type.get(op.type, 0) + flops
    return {"executed": total_run, "executed_tf_stats": tf_run, "all": total_all,
            "by_type": by_type}


def _conv_op_flops(op):
    """2 x the multiply-adds of the forward convolution a conv op belongs to.

    TensorFlow's own statistics count ``Conv2DBackpropInput`` and
    ``Conv2DBackpropFilter`` over the padded input rather than the output,
    which overstates the backward pass of valid-padded convolutions (the
    PatchGAN's stride-1 layers: 2x at 64 px, 1.2x at 256 px).  Every one of
    the three ops does ``prod(output) * kh * kw * c_in`` multiply-adds, with
    ``output`` the forward convolution's output (``out_backprop`` of the
    backward ops).  Returns None for other ops or unknown shapes.
    """
    if op.type == "Conv2D":
        out, kernel = op.outputs[0].shape, op.inputs[1].shape
    elif op.type == "Conv2DBackpropInput":
        out, kernel = op.inputs[2].shape, op.inputs[1].shape
    elif op.type == "Conv2DBackpropFilter":
        out, kernel = op.inputs[2].shape, op.outputs[0].shape
    else:
        return None
    if not (out.is_fully_defined() and kernel.is_fully_defined()):
        return None
    kh, kw, c_in, _ = kernel.as_list()
    return 2 * out.num_elements() * kh * kw * c_in


def _conv_flops(network):
    import keras

    total = 0
    for layer in network.layers:
        if isinstance(layer, keras.layers.Conv2DTranspose):
            _, h, w, cin = layer.input.shape
            total += 2 * h * w * layer.kernel_size[0] * layer.kernel_size[1] * cin * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, _ = layer.output.shape
            cin = layer.input.shape[-1]
            total += 2 * h * w * layer.kernel_size[0] * layer.kernel_size[1] * cin * layer.filters
    return total


def analytic_step_flops(model, batch=1):
    """Convolution FLOP of one step by the reference convention (G x3 + D x7)."""
    flops = 3 * _conv_flops(model.generator)
    if model.discriminator is not None:
        flops += 7 * _conv_flops(model.discriminator)
    return flops * batch


# -- the timed things ----------------------------------------------------------
def matmul_peak(precision, n=4096):
    """A callable running one ``n x n`` matmul in ``precision``; and its FLOP."""
    import tensorflow as tf

    dtype = {"float32": tf.float32, "mixed_bfloat16": tf.bfloat16,
             "mixed_float16": tf.float16}[precision]
    a = tf.random.normal((n, n), dtype=tf.float32)
    b = tf.random.normal((n, n), dtype=tf.float32)
    a, b = tf.cast(a, dtype), tf.cast(b, dtype)

    @tf.function
    def matmul():
        return tf.reduce_sum(tf.cast(tf.matmul(a, b)[:1, :1], tf.float32))

    def run():
        matmul().numpy()

    return run, 2 * n**3


def _batch(image_size, batch, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (batch, image_size, image_size, 1)).astype("float32")
    y = np.tanh(2 * np.abs(x)).astype("float32") * 1.6 - 0.8
    return x, y


def _with_policy(precision, build):
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        return build()
    finally:
        keras.config.set_dtype_policy(previous)


def project_step(model_name, image_size, batch, precision, xla, base_filters=64,
                 bottleneck_size=4, stock_adam=False, fast_paths=None):
    """This project's training step as ``fit`` runs it; returns ``(run, model)``.

    ``stock_adam=True`` compiles with :class:`keras.optimizers.Adam` instead
    of :func:`~solar_euv.models.paper_optimizers` (to measure what the fused
    update gains).  ``fast_paths`` (a :class:`solar_euv.device.FastPaths`)
    replaces the device table's paths for this step (it is traced inside
    :func:`solar_euv.device.using_fast_paths`).
    """
    if fast_paths is not None:
        from solar_euv.device import using_fast_paths

        with using_fast_paths(fast_paths):
            run, model = project_step(model_name, image_size, batch, precision, xla,
                                      base_filters, bottleneck_size, stock_adam)

        def run_with_paths():
            with using_fast_paths(fast_paths):  # the first call traces the step
                run()

        return run_with_paths, model
    import keras
    import numpy as np
    import tensorflow as tf

    from solar_euv.models import build_pix2pix, paper_optimizers

    def build():
        model = build_pix2pix(image_size, model=model_name, base_filters=base_filters,
                              bottleneck_size=bottleneck_size)
        if stock_adam:
            optimizers = [keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.999)
                          for _ in range(2)]
        else:
            optimizers = paper_optimizers()
        model.compile(*optimizers, gan_weight=1.0 if model_name == "B" else 0.0,
                      jit_compile=xla)
        return model

    model = _with_policy(precision, build)
    x, y = _batch(image_size, batch)
    iterator = iter(tf.data.Dataset.from_tensors((x, y)).repeat())
    model.make_train_function()
    train_function = model.train_function

    def run():
        logs = train_function(iterator)
        float(np.asarray(logs["g_loss"]))

    return run, model


def _with_keras_layers(network):
    """A copy of ``network`` built from stock Keras layers only, as the authors' was.

    The project's networks use
    :class:`~solar_euv.models.fused_batch_normalization.FusedBatchNormalization`,
    :class:`~solar_euv.models.matmul_conv2d.MatmulConv2D` and
    :class:`~solar_euv.models.matmul_conv2d_transpose.MatmulConv2DTranspose`
    (same weights and results, faster kernels); the authors' code used
    :class:`keras.layers.BatchNormalization` (not synchronised across
    replicas), :class:`keras.layers.Conv2D` and
    :class:`keras.layers.Conv2DTranspose`, which is what the reference loop
    must time.
    """
    import keras

    from solar_euv.models.fused_batch_normalization import FusedBatchNormalization
    from solar_euv.models.matmul_conv2d import MatmulConv2D
    from solar_euv.models.matmul_conv2d_transpose import MatmulConv2DTranspose

    stock = {FusedBatchNormalization: keras.layers.BatchNormalization,
             MatmulConv2D: keras.layers.Conv2D,
             MatmulConv2DTranspose: keras.layers.Conv2DTranspose}

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, FusedBatchNormalization):
            config["synchronized"] = False
        return stock.get(type(layer), type(layer)).from_config(config)

    copy = keras.models.clone_model(network, clone_function=clone)
    assert not any(type(layer) in stock for layer in copy.layers)
    return copy


def authors_step(model_name, image_size, batch, base_filters=64, bottleneck_size=4):
    """A step written like the authors' TF2 loop (float32, stock Keras Adam)."""
    import keras
    import tensorflow as tf

    from solar_euv.models import build_discriminator, build_generator

    generator = _with_keras_layers(build_generator(
        image_size, base_filters=base_filters, bottleneck_size=bottleneck_size))
    discriminator = (_with_keras_layers(build_discriminator(
        image_size, base_filters=base_filters)) if model_name == "B" else None)
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.999)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.999)

    def log(t):
        return tf.math.log(t + 1e-12)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(x, training=True)
            l1 = tf.reduce_mean(tf.abs(y - fake))
            g_loss = 100.0 * l1
            if discriminator is not None:
                d_real = tf.sigmoid(discriminator([x, y], training=True))
                d_fake = tf.sigmoid(discriminator([x, fake], training=True))
                g_loss += -tf.reduce_mean(log(d_fake))
                d_loss = -(tf.reduce_mean(log(d_real)) + tf.reduce_mean(log(1 - d_fake))) / 2
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        if discriminator is not None:
            d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
            d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        return g_loss

    x, y = _batch(image_size, batch)
    x, y = tf.constant(x), tf.constant(y)

    def run():
        float(step(x, y))

    return run, generator


# -- the benchmark ---------------------------------------------------------------
def _config_key(row):
    return "/".join(str(row[k]) for k in ("loop", "model", "size", "batch", "precision",
                                          "xla"))


def run_benchmark(mode="quick", models=None, sizes=None, batches=None, precisions=None,
                  xla=None, rounds=None, steps=None, warmup=None, base_filters=64,
                  bottleneck_size=4, matmul_size=None, authors=True, command=None,
                  echo=print, fast_paths=None):
    """Measure training speed; returns the JSON-ready result (a dict).

    Parameters
    ----------
    mode : {"quick", "standard", "full"}
        Preset of what to measure (:data:`MODES`); the other arguments
        override single entries.
    models, sizes, batches, precisions, xla : list, optional
        Configurations (``xla``: list of bools).
    rounds, steps, warmup : int, optional
        Interleaved rounds, timed steps per configuration and round, and
        untimed steps after building each configuration.
    base_filters, bottleneck_size : int
        Network width and U-Net bottleneck (64 and 4: the default network;
        bottleneck 1 is the authors' deeper U-Net).
    matmul_size : int, optional
        Side of the square matmul that measures the peak.
    authors : bool
        Also time the authors'-style loop (float32, no XLA) in each group.
    fast_paths : list of str, optional
        Variants of this project's step to time side by side
        (:func:`solar_euv.device.fast_path_variant` names; default
        ``["table"]``, the detected device kind's paths); other variants get
        the loop name ``"project (<variant>)"``.
    command : str, optional
        The command line recorded in the result (default: ``sys.argv``).
    echo : callable
        Progress lines.

    Returns
    -------
    dict
        ``machine``, ``settings``, ``peak`` (matmul FLOP/s per precision),
        ``rows`` (one per configuration) and ``ratios``.
    """
    import keras

    settings = dict(MODES[mode])
    overrides = {"models": models, "sizes": sizes, "batches": batches,
                 "precisions": precisions, "xla": xla, "rounds": rounds, "steps": steps,
                 "warmup": warmup, "matmul_size": matmul_size}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    settings.update({"mode": mode, "base_filters": base_filters,
                     "bottleneck_size": bottleneck_size, "authors": authors,
                     "fast_paths": list(fast_paths or ["table"])})
    settings["precisions"] = supported_precisions(settings["precisions"],
                                                  explicit=precisions is not None)
    from solar_euv.device import fast_path_variant

    variants = {name: fast_path_variant(name) for name in settings["fast_paths"]}
    machine = machine_info(command)
    echo(f"benchmark {mode}: {machine['device']}, device kind {machine['device_kind']}, "
         f"{machine['usable_cores']} cores, TF {machine['tensorflow']}, "
         f"Keras {machine['keras']}")
    settings["fast_path_settings"] = {name: dataclasses.asdict(paths)
                                      for name, paths in variants.items()}

    t_start = time.perf_counter()
    peaks = {p: matmul_peak(p, settings["matmul_size"]) for p in settings["precisions"]}
    peak_times = {p: [] for p in peaks}
    peak_cpu = {p: [] for p in peaks}
    for run, _ in peaks.values():
        run()  # warm-up
    rows = []
    for model_name in settings["models"]:
        for size in settings["sizes"]:
            for batch in settings["batches"]:
                rows += _measure_group(model_name, size, batch, settings, peaks, peak_times,
                                       peak_cpu, echo, variants)
                keras.backend.clear_session()
                gc.collect()
    peak = {p: peaks[p][1] / statistics.median(t) for p, t in peak_times.items() if t}
    peak_per_cpu_s = {p: peaks[p][1] / statistics.median(t)
                      for p, t in peak_cpu.items() if t}
    for row in rows:
        row["peak_flops_per_s"] = peak.get(row["precision"])
        if row["flops_per_step"] and row["peak_flops_per_s"]:
            row["flops_per_s"] = row["flops_per_step"] * row["steps_per_s"]
            row["peak_fraction"] = row["flops_per_s"] / row["peak_flops_per_s"]
            # The same fraction per CPU second of this process: less sensitive
            # to other processes sharing the cores.
            row["peak_fraction_cpu"] = (row["flops_per_step"] / row["cpu_seconds"]
                                        / peak_per_cpu_s[row["precision"]])
    result = {"schema": 1, "machine": machine, "settings": settings,
              "peak": {p: {"flops_per_s": v, "matmul_size": settings["matmul_size"],
                           "seconds": statistics.median(peak_times[p]),
                           "cpu_seconds": statistics.median(peak_cpu[p])}
                       for p, v in peak.items()},
              "flop_count_method": (
                  "TensorFlow per-op 'flops' statistics (tf.compat.v1.profiler "
                  "float_operation) summed over the executed ops of the concrete "
                  "function graph of Pix2Pix.train_step (float32 graph)"),
              "rows": rows, "ratios": _ratios(rows),
              "seconds": time.perf_counter() - t_start}
    return result


def _measure_group(model_name, size, batch, settings, peaks, peak_times, peak_cpu, echo,
                   variants):
    """Build every configuration of one (model, size, batch), then interleave."""
    configs = []
    flops = None
    for precision in settings["precisions"]:
        for xla in settings["xla"]:
            for variant in variants:
                loop = "project" if variant == "table" else f"project ({variant})"
                configs.append({"loop": loop, "model": model_name, "size": size,
                                "batch": batch, "precision": precision, "xla": bool(xla),
                                "fast_paths": variant})
    if settings["authors"]:
        configs.append({"loop": "authors", "model": model_name, "size": size,
                        "batch": batch, "precision": "float32", "xla": False})
    runners = []
    _reset_peak_rss()
    for config in configs:
        t0 = time.perf_counter()
        if config["loop"].startswith("project"):
            paths = variants[config["fast_paths"]]
            run, model = project_step(model_name, size, batch, config["precision"],
                                      config["xla"], settings["base_filters"],
                                      settings["bottleneck_size"], fast_paths=paths)
            if flops is None:
                from solar_euv.device import using_fast_paths

                with using_fast_paths(paths):
                    counted = count_step_flops(model, size, batch)
                flops = {"graph": counted["executed"], "graph_all": counted["all"],
                         "graph_tf_stats": counted["executed_tf_stats"],
                         "by_type": counted["by_type"],
                         "analytic": analytic_step_flops(model, batch),
                         "params_g": model.generator.count_params(),
                         "params_d": (model.discriminator.count_params()
                                      if model.discriminator is not None else 0)}
        else:
            run, _ = authors_step(model_name, size, batch, settings["base_filters"],
                                  settings["bottleneck_size"])
        for _ in range(settings["warmup"]):
            run()
        config["build_seconds"] = time.perf_counter() - t0
        config["times"], config["cpu_times"] = [], []
        runners.append(run)
    for _ in range(settings["rounds"]):
        for config, run in zip(configs, runners):
            for _ in range(settings["steps"]):
                t0, c0 = time.perf_counter(), time.process_time()
                run()
                config["times"].append(time.perf_counter() - t0)
                config["cpu_times"].append(time.process_time() - c0)
            # One matmul per precision after every configuration: the peak
            # sees the same (shared-machine) conditions as the steps.
            for precision, (mm, _) in peaks.items():
                t0, c0 = time.perf_counter(), time.process_time()
                mm()
                peak_times[precision].append(time.perf_counter() - t0)
                peak_cpu[precision].append(time.process_time() - c0)
    rss = peak_rss_mb()
    gpu = gpu_peak_mb()
    for config in configs:
        step = statistics.median(config["times"])
        config.update({
            "key": _config_key(config),
            "step_seconds": step,
            "step_seconds_min": min(config["times"]),
            "cpu_seconds": statistics.median(config["cpu_times"]),
            "steps_per_s": 1.0 / step,
            "images_per_s": batch / step,
            "flops_per_step": flops["graph"] if flops else None,
            "flops_graph_all": flops["graph_all"] if flops else None,
            "flops_graph_tf_stats": flops["graph_tf_stats"] if flops else None,
            "flops_analytic": flops["analytic"] if flops else None,
            "flops_by_type": flops["by_type"] if flops else None,
            "params_generator": flops["params_g"] if flops else None,
            "params_discriminator": flops["params_d"] if flops else None,
            "peak_rss_mb_group": rss,
            "gpu_peak_mb_group": gpu,
        })
        echo(f"  {config['key']}: {1000 * step:.0f} ms/step "
             f"({config['images_per_s']:.2f} images/s)")
    return configs


def _ratios(rows):
    """Speed of each project row over the authors' loop of the same group."""
    base = {(r["model"], r["size"], r["batch"]): r for r in rows if r["loop"] == "authors"}
    out = {}
    for r in rows:
        ref = base.get((r["model"], r["size"], r["batch"]))
        if r["loop"].startswith("project") and ref:
            r["vs_authors"] = r["steps_per_s"] / ref["steps_per_s"]
            # The same ratio in CPU seconds of this process per step.
            r["vs_authors_cpu"] = ref["cpu_seconds"] / r["cpu_seconds"]
            out[r["key"]] = r["vs_authors"]
    return out


# -- output ----------------------------------------------------------------------
def markdown_table(result):
    """The result as a Markdown table (one line per configuration) with a header."""
    m = result["machine"]
    isa = (f", oneDNN limited to {m['onednn_max_cpu_isa']}"
           if m.get("onednn_max_cpu_isa") else "")
    lines = [
        f"Device: {m['device']} (kind {m.get('device_kind', 'unrecorded')}{isa}), "
        f"{m['usable_cores']} usable cores "
        f"(intra-op {m['intra_op_threads'] or 'default'}, inter-op "
        f"{m['inter_op_threads'] or 'default'} threads); TensorFlow {m['tensorflow']}, "
        f"Keras {m['keras']}, Python {m['python']}; {m['utc']}.",
        f"Command: `{m['command']}`",
        "",
        "Matmul peak (" + ", ".join(
            f"{p}: {v['flops_per_s'] / 1e9:.0f} GFLOP/s" for p, v in result["peak"].items())
        + f", {result['settings']['matmul_size']}x{result['settings']['matmul_size']}).",
        "",
        "| loop | model | px | batch | precision | XLA | ms/step | steps/s | images/s "
        "| GFLOP/step | GFLOP/s | % of peak | % of peak (CPU time) | vs authors "
        "| vs authors (CPU time) | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        gflop = r["flops_per_step"] / 1e9 if r.get("flops_per_step") else float("nan")
        rate = r.get("flops_per_s", float("nan")) / 1e9
        frac = 100 * r.get("peak_fraction", float("nan"))
        frac_cpu = 100 * r.get("peak_fraction_cpu", float("nan"))
        vs = f"{r['vs_authors']:.2f}x" if "vs_authors" in r else "1.00x (ref)"
        vs_cpu = f"{r['vs_authors_cpu']:.2f}x" if "vs_authors_cpu" in r else "1.00x (ref)"
        lines.append(
            f"| {r['loop']} | {r['model']} | {r['size']} | {r['batch']} | "
            f"{r['precision']} | {'yes' if r['xla'] else 'no'} | "
            f"{1000 * r['step_seconds']:.0f} | {r['steps_per_s']:.2f} | "
            f"{r['images_per_s']:.2f} | {gflop:.1f} | {rate:.0f} | {frac:.0f} | "
            f"{frac_cpu:.0f} | {vs} | {vs_cpu} | "
            f"{r['peak_rss_mb_group']:.0f} |")
    return "\n".join(lines) + "\n"
