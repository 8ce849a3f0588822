"""Samples of the synthetic Sun: time grids, directories of files, the embedded default sample.

:func:`sample_times` and :func:`spread_times` make the time grids of
``solar-euv sample``; :func:`write_sample` writes HMI and AIA files for
each time; :func:`default_sample_dir` generates the embedded default sample
(:func:`default_sample_times`, 256 px, seed 0) once into the cache and
returns its directory.
"""
import datetime as _dt
import os
import pathlib
import re
import shutil
import time as _time

import numpy as np
from astropy.time import Time

from solar_euv.exceptions import SolarEUVError
from solar_euv.passbands import PASSBAND_NAMES, parse_passbands
from solar_euv.sdo.times import parse_cadence, parse_time_input
from solar_euv.synthetic.files import MODEL_VERSION
from solar_euv.synthetic.sun import SyntheticSun

__all__ = [
    "SAMPLE_SIZES",
    "CACHE_ENV",
    "DEFAULT_SAMPLE_SIZE",
    "sample_times",
    "spread_times",
    "default_sample_times",
    "write_sample",
    "default_sample_dir",
]

SAMPLE_SIZES = (64, 128, 256, 512, 1024, 2048, 4096)
"""Image sizes ``sample`` can write (4096 is the instruments' full size)."""

CACHE_ENV = "SOLAR_EUV_CACHE"
"""Environment variable overriding the cache directory (default ``~/.cache/solar_euv``)."""

DEFAULT_SAMPLE_SIZE = 256
"""Image size of the embedded default sample."""

_MARKER = "COMPLETE"
_DEFAULT_DIRNAME = f"sample-v{MODEL_VERSION}"


def _utc_plus(t, seconds):
    """``t`` plus ``seconds`` on the UTC calendar (leap seconds not counted)."""
    mjd = t.utc.mjd
    day = np.floor(mjd)
    return Time(day, (mjd - day) + seconds / 86400.0, format="mjd", scale="utc")


def _end_time(value):
    """End of a range: a bare date (``2017-12-31``) means the end of that day."""
    t = parse_time_input(value, "end")
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        t = _utc_plus(t, 86400.0)
        return t, False
    return t, True


def sample_times(start, end, cadence="6h"):
    """Times from ``start`` to ``end`` every ``cadence`` (a bare end date is inclusive).

    Returns
    -------
    list of astropy.time.Time
    """
    t0 = parse_time_input(start, "start")
    t1, inclusive = _end_time(end)
    step = parse_cadence(cadence).total_seconds()
    if step < 60:
        raise SolarEUVError(f"cadence {cadence!r} is shorter than a minute")
    span = (t1.utc.mjd - t0.utc.mjd) * 86400.0
    if span < 0 or (span == 0 and not inclusive):
        raise SolarEUVError(f"end {end} is before start {start}")
    count = int(np.floor(span / step + 1e-9)) + 1
    if not inclusive and (count - 1) * step >= span - 1e-6:
        count -= 1
    return [_utc_plus(t0, k * step) for k in range(max(count, 0))]


def spread_times(count, start="2011-01-01", end="2017-12-31", cadence="6h"):
    """``count`` times spread evenly over ``[start, end]`` on the cadence grid of ``start``."""
    if count < 1:
        raise SolarEUVError(f"count must be at least 1; received {count}")
    grid = sample_times(start, end, cadence)
    idx = np.unique(np.round(np.linspace(0, len(grid) - 1, count)).astype(int))
    if len(idx) < count:
        message = (f"count {count} is more than the {len(grid)} times between "
                   f"{start} and {end} at cadence {cadence}")
        raise SolarEUVError(message)
    return [grid[i] for i in idx]


def default_sample_times():
    """Times of the embedded default sample: 3 times 6 h apart every 26 days, 2011-2017.

    99 groups of 3 neighbouring 6-hourly times (297 time steps) cover the
    paper's training (2011-2016), validation (2017 Jan-Jun) and test
    (2017 Jul-Dec) periods; 26 days is not a multiple of the rotation period,
    so successive groups see different longitudes.
    """
    t0 = Time("2011-01-01T00:00:00", scale="utc")
    end = Time("2018-01-01T00:00:00", scale="utc")
    times = []
    day = 0
    while True:
        for k in range(3):
            t = _utc_plus(t0, (day + 0.25 * k) * 86400.0)
            if t >= end:
                return times
            times.append(t)
        day += 26


def _check_size(size):
    if int(size) not in SAMPLE_SIZES:
        sizes = ", ".join(str(s) for s in SAMPLE_SIZES)
        raise SolarEUVError(f"size {size} is not supported; use one of {sizes}")
    return int(size)


def write_sample(out_dir, times, size=1024, passbands=PASSBAND_NAMES, seed=0,
                 progress=None):
    """Write HMI and AIA files for every time in ``times`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or os.PathLike
    times : iterable of time-like
    size : int
        One of :data:`SAMPLE_SIZES`.
    passbands : iterable of str
        AIA passbands (``"all"`` for the nine).
    seed : int
    progress : callable, optional
        Called as ``progress(index, time, paths)`` after each time step.

    Returns
    -------
    list of pathlib.Path
    """
    size = _check_size(size)
    names = parse_passbands(passbands)
    sun = SyntheticSun(seed)
    written = []
    for k, t in enumerate(times):
        paths = sun.write_time_step(out_dir, t, size, names)
        written.extend(paths)
        if progress is not None:
            progress(k, t, paths)
    return written


def default_sample_dir(cache_dir=None):
    """Directory of the embedded default sample, generated on first use.

    297 time steps (3 times 6 h apart every 26 days over 2011-2017, see
    :func:`default_sample_times`) of HMI + nine AIA files at 256 px, seed 0
    (2970 files, about 170 MB).  It is generated into ``<cache>/sample-v2/``
    (the number is :data:`MODEL_VERSION`) where ``<cache>`` is ``cache_dir``,
    else ``$SOLAR_EUV_CACHE``, else ``~/.cache/solar_euv``.  Generation takes
    about 90 s of CPU on one core (benchmarks/results/synthetic_speed.json)
    and needs no network; it writes into a
    temporary sibling directory that is renamed when complete, with a marker
    file (``COMPLETE``) written last, so later calls return at once and an
    interrupted run is simply redone.

    Returns
    -------
    pathlib.Path
    """
    root = pathlib.Path(cache_dir or os.environ.get(CACHE_ENV)
                        or pathlib.Path.home() / ".cache" / "solar_euv").expanduser()
    target = root / _DEFAULT_DIRNAME
    if (target / _MARKER).is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{_DEFAULT_DIRNAME}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        times = default_sample_times()
        start = _time.perf_counter()
        write_sample(tmp, times, size=DEFAULT_SAMPLE_SIZE, seed=0)
        elapsed = _time.perf_counter() - start
        (tmp / _MARKER).write_text(
            f"solar_euv synthetic sample v{MODEL_VERSION}: {len(times)} time steps, "
            f"{DEFAULT_SAMPLE_SIZE} px, seed 0, generated in {elapsed:.0f} s on "
            f"{_dt.date.today().isoformat()}\n")
        try:
            os.replace(tmp, target)
        except OSError:
            if (target / _MARKER).is_file():  # another process finished first
                return target
            stale = root / f".{_DEFAULT_DIRNAME}.stale-{os.getpid()}"
            os.replace(target, stale)         # an incomplete leftover: set it aside
            os.replace(tmp, target)
            shutil.rmtree(stale, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
