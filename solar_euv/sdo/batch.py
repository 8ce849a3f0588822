"""Prepare many SDO files in parallel processes (:func:`prepare_files`).

Each file goes through :func:`solar_euv.sdo.prep.prepare_file` in a worker
process of a pool kept for the life of the interpreter, or as a task on a
Dask cluster (:mod:`solar_euv.sdo.cluster`).  Results come back
in input order; an unusable file is raised, warned about and skipped, or
handed back as its :class:`~solar_euv.exceptions.InputError`
(``on_error``).  Warnings a worker raises are shown by the calling process,
each message once.
"""
import os
import sys
import warnings

from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.progress import FileBar
from solar_euv.sdo.prep import prepare_file

__all__ = ["prepare_files"]


def _prepare_one(args):
    """Worker: ``(result, warnings)``.

    ``result`` is a PreparedImage, or the error as plain data; ``warnings``
    lists the ``(category, message)`` of the warnings preparing it raised,
    for the calling process to show (each once), not the worker.
    """
    path, size, kwargs = args
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = prepare_file(path, size, **kwargs)
        except InputError as err:
            result = ("InputError", err.path, err.problem, err.category)
        except SolarEUVError as err:
            result = ("SolarEUVError", os.fspath(path), str(err))
    return result, [(w.category, str(w.message)) for w in caught]


def _as_error(result, on_error):
    if result[0] == "InputError":
        return InputError(*result[1:])
    if on_error == "raise":
        return SolarEUVError(result[2])
    return InputError(result[1], result[2])


def prepare_files(paths, size=1024, *, workers=1, progress=True, on_error="raise",
                  correction_table=None, degradation=True, order=3, shown=None, client=None,
                  pointing_table=None):
    """Prepare many files in parallel processes; yield results in input order.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        SDO files.
    size : int
        Grid side ``N``.
    workers : int
        Number of processes (1: in this process).  Each worker reads and
        warps one file at a time; about ``100 MB`` of memory per worker at
        4096 px input.
    progress : bool
        Show a progress bar (tqdm, on stderr).
    on_error : {"raise", "warn", "return"}
        On an unusable file, raise its :class:`InputError`; or warn
        (:class:`~solar_euv.exceptions.SolarEUVWarning`) and skip it; or
        yield the :class:`InputError` in its place (so that results stay
        aligned with ``paths``).
    correction_table, degradation, order, pointing_table
        As in :func:`prepare_aia` (a table is given as its file, read once
        per worker process).
    shown : set, optional
        ``(category, message)`` of the warnings already shown; the warnings
        the files raise (in worker processes or here) are shown by this
        process, each message once, and added to it.  A new set by default.
    client : distributed.Client, optional
        Prepare the files as tasks on this Dask cluster instead (``workers``
        is then ignored); see :func:`solar_euv.sdo.cluster.dask_client`.
        The results, and so the shards, are the same.

    Yields
    ------
    PreparedImage or InputError
    """
    from solar_euv.exceptions import SolarEUVWarning

    if on_error not in ("raise", "warn", "return"):
        raise SolarEUVError("on_error must be 'raise', 'warn' or 'return'; received "
                            f"{on_error!r}")
    shown = set() if shown is None else shown
    paths = [os.fspath(p) for p in paths]
    kwargs = {"correction_table": correction_table, "degradation": degradation,
              "order": order, "pointing_table": pointing_table}
    jobs = [(p, size, kwargs) for p in paths]
    bar = FileBar("prepare", len(jobs), enabled=progress)
    try:
        if client is not None:
            from solar_euv.sdo.cluster import map_in_order

            results = map_in_order(client, _prepare_one, jobs)
        elif workers is None or workers <= 1 or len(jobs) <= 1:
            results = map(_prepare_one, jobs)
        else:
            results = _pool(int(workers)).map(_prepare_one, jobs)
        try:
            for result, caught in results:
                bar.update(1)
                for category, message in caught:
                    if (category, message) not in shown:
                        shown.add((category, message))
                        warnings.warn(message, category, stacklevel=1)
                if isinstance(result, tuple):
                    error = _as_error(result, on_error)
                    if on_error == "raise":
                        raise error
                    if on_error == "return":
                        yield error
                        continue
                    warnings.warn(f"skipped: {error}", SolarEUVWarning, stacklevel=2)
                    continue
                yield result
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()                       # cancels what is still pending
    finally:
        bar.close()


_POOLS = {}


def _pool(workers):
    """A process pool of ``workers`` processes, kept for later calls.

    Starting workers costs seconds (imports; see :func:`_worker_context`),
    so the pool is reused by every :func:`prepare_files` call of this
    process and shut down when the interpreter exits.
    """
    from concurrent.futures import ProcessPoolExecutor

    method = _worker_context().get_start_method()
    key = (workers, method)
    pool = _POOLS.get(key)
    if pool is None or getattr(pool, "_broken", False):
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context())
        _POOLS[key] = pool
    return pool


# Imported once by the fork server, so that forked workers start ready.
_WORKER_MODULES = (__name__, "solar_euv.sdo.prep", "sunpy.map", "solar_euv.sdo.thirdparty",
                   "skimage.transform", "astropy.io.fits")


def _worker_context():
    """Start method for the worker processes.

    ``fork`` starts workers at once.  When TensorFlow is loaded, its threads
    make forking this process unsafe; then a fork server (a fresh process
    that imports this module once and forks the workers) is used, or
    ``spawn`` where that does not exist.
    """
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "tensorflow" not in sys.modules and "fork" in methods:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(_WORKER_MODULES))
        return context
    return multiprocessing.get_context("spawn")
