"""Per-file preparation as tasks on a Dask cluster (``prepare --scheduler``).

:func:`solar_euv.sdo.batch.prepare_files` normally spreads files over the
processes of one machine.  Given a scheduler it sends each file to a
:mod:`dask.distributed` cluster instead -- the engine sunpy and SDOML users
already run, on one machine (``local:N``: a local cluster of ``N`` worker
processes) or on many (the address of a running scheduler, e.g. one started
by dask-jobqueue under SLURM).  Results come back in input order, so the
shards written from them are byte-identical to a single-machine run; the
scheduler re-runs the task of a worker that is lost (up to Dask's
``distributed.scheduler.allowed-failures``, 3 by default) on another worker.

Every worker must see the raw files under the same paths (a shared file
system) and have ``solar_euv`` installed.  Dask is an optional dependency:
``pip install "solar_euv[dask]"``.
"""
import contextlib
import re

from solar_euv.exceptions import SolarEUVError

__all__ = ["parse_scheduler", "dask_client", "warm_up", "map_in_order"]

#: What a worker imports before its first file (seconds of imports: sunpy,
#: astropy, skimage, aiapy), done once per worker by :func:`warm_up`.
WORKER_MODULES = ("solar_euv.sdo.batch", "solar_euv.sdo.prep", "sunpy.map",
                  "skimage.transform", "astropy.io.fits")

_LOCAL = re.compile(r"local:(\d+)$")


def parse_scheduler(spec):
    """``("local", n_workers)`` or ``("address", address)`` from a ``--scheduler`` value.

    Parameters
    ----------
    spec : str
        ``"local:N"`` (a local cluster of ``N`` worker processes) or the
        address of a running scheduler (``tcp://host:8786``, ``host:8786``).

    Raises
    ------
    SolarEUVError
        For a value that is neither.
    """
    text = str(spec).strip()
    match = _LOCAL.match(text)
    if match:
        workers = int(match.group(1))
        if not 1 <= workers <= 1024:
            raise SolarEUVError(f"--scheduler {text}: the number of local workers must be "
                                "between 1 and 1024")
        return "local", workers
    if text.startswith("local"):
        raise SolarEUVError(f"--scheduler {text}: write local:N, N the number of worker "
                            "processes (e.g. local:4)")
    if not text or " " in text:
        raise SolarEUVError(f"--scheduler {text!r}: give local:N or the address of a running "
                            "Dask scheduler (e.g. tcp://10.0.0.1:8786)")
    return "address", text


def _distributed():
    try:
        import distributed
    except ImportError:
        raise SolarEUVError("--scheduler needs dask.distributed, which is not installed: "
                            'pip install "solar_euv[dask]"') from None
    return distributed


@contextlib.contextmanager
def dask_client(spec, *, timeout=30):
    """A :class:`distributed.Client` for a ``--scheduler`` value, closed on exit.

    ``local:N`` starts (and stops) a local cluster of ``N`` single-threaded
    worker processes without a dashboard; an address connects to a running
    scheduler within ``timeout`` seconds.

    Raises
    ------
    SolarEUVError
        When dask.distributed is missing or the scheduler cannot be reached.
    """
    distributed = _distributed()
    kind, value = parse_scheduler(spec)
    if kind == "local":
        with distributed.LocalCluster(n_workers=value, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            warm_up(client)
            yield client
        return
    try:
        client = distributed.Client(value, timeout=timeout)
    except (OSError, TimeoutError) as err:
        raise SolarEUVError(f"cannot reach the Dask scheduler at {value} within {timeout} s "
                            f"({' '.join(str(err).split()) or type(err).__name__}); is it "
                            "running, and is the address right?") from None
    with client:
        warm_up(client)
        yield client


def _import_modules(names):
    import importlib

    from solar_euv.sdo.thirdparty import aiapy_calibrate

    aiapy_calibrate()
    for name in names:
        importlib.import_module(name)
    return len(names)


def warm_up(client):
    """Import the preparation's modules on every worker of ``client`` now.

    A worker otherwise imports them (several seconds) when its first file
    arrives; :func:`dask_client` calls this for the clusters it starts or
    joins.
    """
    client.run(_import_modules, WORKER_MODULES)


def map_in_order(client, func, jobs, *, retries=1):
    """Run ``func`` on every job as a Dask task; yield the results in job order.

    Tasks are submitted all at once (the scheduler balances them over the
    workers); a task whose worker dies is re-run elsewhere by the scheduler,
    one that raises is retried ``retries`` times.  Closing the generator
    early cancels what is still pending.
    """
    futures = client.map(func, list(jobs), pure=False, retries=retries)
    try:
        for future in futures:
            yield future.result()
    finally:
        if client.status not in ("closing", "closed"):   # nothing is pending on a closed one
            client.cancel(futures)
