"""Devices and distribution strategies: TF_CONFIG, the strategy of a run, its precision."""
import json
import os

from solar_euv.exceptions import SolarEUVError

__all__ = ["parse_tf_config", "make_strategy", "check_precision"]


def parse_tf_config():
    """This worker's place in the cluster that ``TF_CONFIG`` describes.

    Returns
    -------
    tuple of (str, int, int)
        Task type, task index and number of workers.

    Raises
    ------
    SolarEUVError
        ``TF_CONFIG`` is not set or is malformed.
    """
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise SolarEUVError("--strategy multiworker needs TF_CONFIG (a JSON object with "
                            "'cluster' and 'task'); it is not set")
    try:
        cfg = json.loads(raw)
        workers = cfg["cluster"]["worker"]
        task = cfg["task"]
        index = int(task["index"])
        kind = task["type"]
    except (ValueError, KeyError, TypeError) as err:
        raise SolarEUVError(f"TF_CONFIG is malformed ({err.__class__.__name__}: {err}); "
                            'expected {"cluster": {"worker": ["host:port", ...]}, '
                            '"task": {"type": "worker", "index": 0}}') from None
    if not isinstance(workers, list) or not workers or not 0 <= index < len(workers):
        raise SolarEUVError(f"TF_CONFIG is malformed: task index {index} is outside its "
                            f"{len(workers) if isinstance(workers, list) else 0} workers")
    return kind, index, len(workers)


def make_strategy(name):
    """Return ``(strategy, description, is_chief)`` for ``auto|default|mirrored|multiworker``."""
    import tensorflow as tf

    if name == "multiworker":
        kind, index, count = parse_tf_config()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        chief = kind == "chief" or (kind == "worker" and index == 0)
        return strategy, f"MultiWorkerMirrored ({count} workers, this is {kind} {index})", chief
    gpus = tf.config.list_physical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        # All GPUs; on a machine without GPUs, all logical CPUs (one unless
        # tf.config.set_logical_device_configuration split the CPU).
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or \
            [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices)
        return strategy, f"Mirrored ({strategy.num_replicas_in_sync} replicas)", True
    if name not in ("auto", "default"):
        raise SolarEUVError(f"unknown strategy {name!r}")
    device = "GPU" if gpus else "CPU"
    return tf.distribute.get_strategy(), f"default (one {device})", True


def check_precision(precision):
    """Refuse ``mixed_float16`` without a GPU (emulated float16 is slower than float32)."""
    import tensorflow as tf

    if precision == "mixed_float16" and not tf.config.list_physical_devices("GPU"):
        raise SolarEUVError("--precision mixed_float16 needs a GPU: float16 arithmetic on a "
                            "CPU is emulated and slower than float32; use float32 or "
                            "mixed_bfloat16 on a CPU")
