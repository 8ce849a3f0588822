"""Where the time of one training step goes: a TensorFlow profiler trace, summed per op.

The trace (``tf.profiler.experimental``) is written to a directory that
TensorBoard's profile plugin can open; this module also reads its XPlane
file directly and sums the host-side TensorFlow op events by op type and by
op name, so the top ops can be printed without TensorBoard.
"""
import glob
import os
import tempfile
import time

__all__ = ["profile_train_step", "top_ops_table"]


def _xplane_ops(logdir):
    """Total time (seconds) and count per TF op, from the newest ``*.xplane.pb``."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True),
                   key=os.path.getmtime)
    if not files:
        raise RuntimeError(f"the profiler wrote no *.xplane.pb under {logdir}")
    space = xplane_pb2.XSpace()
    with open(files[-1], "rb") as f:
        space.ParseFromString(f.read())
    by_name = {}
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU") and not plane.name.startswith("/device:"):
            continue
        names = {k: v.name for k, v in plane.event_metadata.items()}
        for line in plane.lines:
            # Executor threads: the op events carry "name:Type" names.
            for event in line.events:
                name = names.get(event.metadata_id, "")
                if ":" not in name or name.startswith("$") or "::" in name:
                    continue
                op_name, op_type = name.rsplit(":", 1)
                if not op_type.lstrip("_")[:1].isupper() or " " in op_type:
                    continue
                entry = by_name.setdefault((op_name, op_type), [0.0, 0])
                entry[0] += event.duration_ps * 1e-12
                entry[1] += 1
    return by_name


def profile_train_step(model_name="B", image_size=256, precision="float32", steps=3,
                       warmup=2, base_filters=64, bottleneck_size=4, loop="project",
                       logdir=None):
    """Profile ``steps`` training steps; returns per-type and per-op totals per step.

    Parameters
    ----------
    model_name : {"A", "B"}
    image_size : int
    precision : str
        Keras dtype policy of the project's loop.
    steps, warmup : int
        Traced steps and untraced steps before them.
    base_filters, bottleneck_size : int
        Network width and U-Net bottleneck.
    loop : {"project", "authors"}
        This project's ``fit`` step or the authors'-style loop.
    logdir : str, optional
        Where the trace goes (a temporary directory by default).

    Returns
    -------
    dict
        ``step_seconds`` (wall clock per traced step), ``by_type`` and
        ``by_op`` (lists of ``(name, seconds per step, events per step)``,
        largest first; op time summed over threads, so concurrent ops can
        add up to more than the step).
    """
    import tensorflow as tf

    from benchmarks.train_speed import authors_step, project_step

    if loop == "project":
        run, _ = project_step(model_name, image_size, 1, precision, False, base_filters,
                              bottleneck_size)
    else:
        run, _ = authors_step(model_name, image_size, 1, base_filters, bottleneck_size)
    for _ in range(warmup):
        run()
    logdir = logdir or tempfile.mkdtemp(prefix="solar_euv_profile_")
    tf.profiler.experimental.start(logdir)
    t0 = time.perf_counter()
    for _ in range(steps):
        run()
    wall = (time.perf_counter() - t0) / steps
    tf.profiler.experimental.stop()
    by_name = _xplane_ops(logdir)
    by_type = {}
    for (_, op_type), (seconds, count) in by_name.items():
        entry = by_type.setdefault(op_type, [0.0, 0])
        entry[0] += seconds
        entry[1] += count
    return {
        "logdir": logdir, "step_seconds": wall, "loop": loop, "model": model_name,
        "size": image_size, "precision": precision,
        "by_type": sorted(((k, v[0] / steps, v[1] / steps) for k, v in by_type.items()),
                          key=lambda t: -t[1]),
        "by_op": sorted(((f"{k[0]}:{k[1]}", v[0] / steps, v[1] / steps)
                         for k, v in by_name.items()), key=lambda t: -t[1]),
    }


def top_ops_table(profile, top=12):
    """Markdown table of the op types that take the most time per step."""
    total = sum(t for _, t, _ in profile["by_type"])
    lines = [f"{profile['loop']} loop, model {profile['model']}, {profile['size']} px, "
             f"{profile['precision']}: {1000 * profile['step_seconds']:.0f} ms/step wall "
             f"clock while tracing; op time summed {1000 * total:.0f} ms/step.",
             "", "| op type | ms/step | share of op time | ops/step |", "|---|---|---|---|"]
    for name, seconds, count in profile["by_type"][:top]:
        lines.append(f"| {name} | {1000 * seconds:.1f} | {100 * seconds / total:.1f} % "
                     f"| {count:.0f} |")
    return "\n".join(lines) + "\n"
