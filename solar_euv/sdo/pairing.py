"""Pair magnetograms with AIA images in time.

An *observation* is one HMI magnetogram and, for each AIA passband, the image
nearest to it in time within a tolerance (6 minutes by default).  A passband
with no image that close is recorded as missing; nothing is interpolated or
borrowed from further away.  Observations are then assigned to named date
ranges (splits) by :mod:`solar_euv.sdo.splits`.

Times are UTC.  They are handled as :class:`numpy.datetime64` in milliseconds
and written as ISO-8601 strings ending in ``Z`` (``2011-01-01T00:00:00Z``), see
:mod:`solar_euv.sdo.times`.

This module uses numpy and astropy only; the kind and time of each file come
from its header (read by :mod:`solar_euv.sdo.io`), and the pairing itself
works on any objects with ``kind``, ``time`` and ``path`` attributes.

Examples
--------
>>> from solar_euv.sdo.pairing import SourceFile, pair_files
>>> from solar_euv.sdo.splits import assign_splits, default_splits
>>> files = [SourceFile("hmi", "2017-07-01T00:00:00Z", "m.fits"),
...          SourceFile("171", "2017-07-01T00:00:09Z", "a.fits")]
>>> result = pair_files(files, passbands=["171", "193"])
>>> result.observations[0].missing
('193',)
>>> [name for name, obs in assign_splits(result.observations, default_splits()).splits.items() if obs]
['test']
"""
import os
from dataclasses import dataclass

import astropy.units as u
import numpy as np

from solar_euv.passbands import PASSBAND_NAMES, get_passband, parse_passbands
from solar_euv.sdo.times import format_time, parse_time, parse_tolerance

__all__ = [
    "DEFAULT_TOLERANCE",
    "HMI_KIND",
    "SourceFile",
    "Observation",
    "PairingResult",
    "pair_files",
]

HMI_KIND = "hmi"
"""The ``kind`` of a line-of-sight magnetogram (AIA files use the passband name)."""

DEFAULT_TOLERANCE = 6 * u.min
"""Largest time difference between a magnetogram and the AIA image paired with it."""


# -- times --------------------------------------------------------------------

def _milliseconds(tolerance):
    return np.timedelta64(int(round(parse_tolerance(tolerance).to_value(u.ms))), "ms")


# -- pairing ------------------------------------------------------------------

@dataclass(frozen=True)
class SourceFile:
    """What the pairing needs to know about one file.

    Attributes
    ----------
    kind : str
        ``"hmi"`` for a magnetogram, the passband name (``"171"``) for AIA.
    time : str
        Observation time, UTC ISO-8601.
    path : str
        The file.
    """

    kind: str
    time: str
    path: str

    @classmethod
    def of(cls, item):
        """A SourceFile from any object with ``kind``, ``time`` and ``path``."""
        kind = str(item.kind).strip()
        kind = HMI_KIND if kind.lower() == HMI_KIND else get_passband(kind).name
        return cls(kind, format_time(item.time), os.fspath(item.path))


@dataclass
class Observation:
    """One magnetogram and the AIA images paired with it.

    Attributes
    ----------
    time : str
        Time of the magnetogram (UTC ISO-8601); the observation's time.
    sources : dict
        Channel name (``"hmi"``, ``"171"``, ...) -> file, for the channels found.
    times : dict
        Channel name -> observation time of that file.
    missing : tuple of str
        Requested passbands without an image within the tolerance.
    """

    time: str
    sources: dict
    times: dict
    missing: tuple = ()

    @property
    def passbands(self):
        """Passbands present, in table order."""
        return tuple(p for p in PASSBAND_NAMES if p in self.sources)

    def to_dict(self):
        return {"time": self.time, "sources": dict(self.sources),
                "times": dict(self.times), "missing": list(self.missing)}


@dataclass
class PairingResult:
    """Outcome of :func:`pair_files`.

    Attributes
    ----------
    observations : list of Observation
        One per magnetogram, in time order.
    unused : list of SourceFile
        AIA files not nearest to any magnetogram within the tolerance, files
        of passbands not asked for, and second magnetograms at the same time.
    passbands : tuple of str
        The passbands that were paired.
    tolerance : astropy.units.Quantity
        The tolerance used.
    """

    observations: list
    unused: list
    passbands: tuple
    tolerance: u.Quantity

    def missing_counts(self):
        """Passband -> number of observations lacking it."""
        return {p: sum(p in o.missing for o in self.observations) for p in self.passbands}


def pair_files(files, passbands=None, tolerance=DEFAULT_TOLERANCE):
    """Pair each magnetogram with the nearest image of each AIA passband.

    Parameters
    ----------
    files : iterable
        Objects with ``kind`` (``"hmi"`` or a passband name), ``time`` (UTC)
        and ``path`` attributes: :class:`SourceFile`, or the prepared images
        of :mod:`solar_euv.sdo.prep`.
    passbands : iterable of str, optional
        Passbands to pair (default all nine).
    tolerance : str or astropy.units.Quantity
        Largest ``|t_AIA - t_HMI|`` accepted (default 6 minutes).  Of two
        images equally near, the earlier is taken.  An AIA image may serve two
        magnetograms closer together than twice the tolerance.

    Returns
    -------
    PairingResult
    """
    chosen = PASSBAND_NAMES if passbands is None else parse_passbands(passbands)
    tol = _milliseconds(tolerance)
    files = sorted((SourceFile.of(f) for f in files), key=lambda f: (f.time, f.kind, f.path))

    magnetograms, unused, seen = [], [], set()
    by_passband = {p: [] for p in chosen}
    for f in files:
        if f.kind == HMI_KIND:
            if f.time in seen:
                unused.append(f)  # a second magnetogram at the same time
            else:
                seen.add(f.time)
                magnetograms.append(f)
        elif f.kind in by_passband:
            by_passband[f.kind].append(f)
        else:
            unused.append(f)

    stamps = {p: np.array([parse_time(f.time) for f in by_passband[p]], dtype="datetime64[ms]")
              for p in chosen}
    used = set()
    observations = []
    for m in magnetograms:
        t = parse_time(m.time)
        sources, times, missing = {HMI_KIND: m.path}, {HMI_KIND: m.time}, []
        for p in chosen:
            best = _nearest(by_passband[p], stamps[p], t, tol)
            if best is None:
                missing.append(p)
            else:
                sources[p], times[p] = best.path, best.time
                used.add(best)
        observations.append(Observation(m.time, sources, times, tuple(missing)))
    for p in chosen:
        unused.extend(f for f in by_passband[p] if f not in used)
    unused.sort(key=lambda f: (f.time, f.kind, f.path))
    return PairingResult(observations, unused, tuple(chosen), parse_tolerance(tolerance))


def _nearest(candidates, times, t, tol):
    """The candidate nearest to ``t`` within ``tol`` (``times``: their sorted times), or None."""
    i = int(np.searchsorted(times, t))
    best, best_dt = None, None
    for j in (i - 1, i):  # the neighbours on either side; earlier wins a tie
        if 0 <= j < len(candidates):
            dt = abs(times[j] - t)
            if dt <= tol and (best_dt is None or dt < best_dt):
                best, best_dt = candidates[j], dt
    return best
