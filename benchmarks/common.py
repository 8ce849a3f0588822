"""What the benchmarks share: the machine of a run, best-of timing and result files.

:func:`machine_info` describes the machine a result was measured on (device,
cores, versions, the command); :func:`machine_line` says it in one line for
the tables of ``benchmarks/results/`` that the docs render, which
:func:`results_table` builds and :func:`write_json` writes.
:func:`best_times` times functions round-robin, so a change of load on a
shared machine hits them alike, and :func:`write_files` replaces result
files so that no reader sees half of one.
"""
import json
import os
import pathlib
import platform
import sys
import time

__all__ = ["machine_info", "machine_line", "best_times", "results_table", "write_json",
           "write_files"]


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(command=None):
    """Device, cores, versions and the command line of this run (a dict)."""
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    gpu_names = []
    for gpu in gpus:
        try:
            gpu_names.append(tf.config.experimental.get_device_details(gpu).get(
                "device_name", gpu.name))
        except (ValueError, RuntimeError):
            gpu_names.append(gpu.name)
    from solar_euv.device import device_kind

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "device": ", ".join(gpu_names) if gpu_names else f"CPU ({_cpu_name()})",
        "device_kind": device_kind(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "device_type": "GPU" if gpus else "CPU",
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "command": command or "python -m benchmarks " + " ".join(sys.argv[1:]),
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def machine_line(machine):
    """``"<cpu>, <n> usable cores (<device kind>)"``: the machine of a results table.

    Parameters
    ----------
    machine : dict
        :func:`machine_info` (a result of an earlier version, without some
        of its keys, reads ``?`` or the core count in their place).

    Returns
    -------
    str
    """
    return (f"{machine.get('cpu', '?')}, "
            f"{machine.get('usable_cores', machine.get('cpu_count'))} usable cores "
            f"({machine.get('device_kind', '?')})")


def best_times(funcs, repeat):
    """Best time of each function, measured round-robin (fair under a changing load).

    Parameters
    ----------
    funcs : sequence of callable
        Called without arguments; each is called once untimed first
        (tracing, allocation, caches).
    repeat : int
        Timed calls of each.

    Returns
    -------
    list of float
        The shortest wall-clock seconds of each function, in order.
    """
    for func in funcs:
        func()                                 # warm-up: tracing, allocation
    best = [float("inf")] * len(funcs)
    for _ in range(repeat):
        for k, func in enumerate(funcs):
            t0 = time.perf_counter()
            func()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def results_table(title, columns, rows, *, command, machine, notes=None):
    """One table of ``benchmarks/results/`` (``docs/_ext/benchmark_tables.py`` renders it).

    Parameters
    ----------
    title : str
    columns : list of str
    rows : list of list of str
        Cells as Markdown inline text.
    command : str
        The command line that measured it.
    machine : dict
        :func:`machine_info` of the run (said in one line, :func:`machine_line`).
    notes : sequence of str, optional
        Recorded as ``notes`` where given (even empty).

    Returns
    -------
    dict
        ``title``, ``machine``, ``command``, ``date`` (today), ``notes``
        where given, ``columns`` and ``rows``, in that order.
    """
    table = {"title": title, "machine": machine_line(machine), "command": command,
             "date": time.strftime("%Y-%m-%d")}
    if notes is not None:
        table["notes"] = list(notes)
    table.update(columns=columns, rows=rows)
    return table


def write_json(path, value):
    """Write ``value`` to ``path`` as JSON, one space of indent and a final newline."""
    pathlib.Path(path).write_text(json.dumps(value, indent=1) + "\n")


def write_files(out, files):
    """Write text files into ``out`` (created if need be), each replaced in one step.

    Parameters
    ----------
    out : pathlib.Path
        Directory.
    files : iterable of (str, str)
        File name and text; each is written beside its name and renamed over
        it (:func:`solar_euv.atomic.atomic_path`).
    """
    from solar_euv.atomic import atomic_path

    out.mkdir(parents=True, exist_ok=True)
    for name, text in files:
        with atomic_path(out / name) as tmp:
            tmp.write_text(text)
