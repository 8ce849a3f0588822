"""``manifest.json`` of a prepared dataset: what it records, and reading it back checked.

The manifest (:func:`new_manifest`) describes the grid, the storage, the
channels and, per split, the shards (with byte length and SHA-256,
:func:`file_sha256`), the example counts and per-channel statistics
(:class:`ChannelStatistics`).  It is written atomically
(:func:`write_json_atomic`) and read by :func:`dataset_info`.  The record
schema itself is in :mod:`solar_euv.dataset.records`.
"""
import json
import math
import os
import pathlib

import numpy as np

from solar_euv._version import __version__
from solar_euv.checksums import file_sha256
from solar_euv.dataset.records import FLOAT16_MAX, PARTIAL_SUFFIX, SCHEMA_VERSION
from solar_euv.exceptions import InputError
from solar_euv.passbands import HMI
from solar_euv.scaling import solar_radius_px

__all__ = [
    "MANIFEST_NAME",
    "KNOWN_SCHEMA_VERSIONS",
    "file_sha256",
    "write_json_atomic",
    "ChannelStatistics",
    "new_manifest",
    "dataset_info",
]

MANIFEST_NAME = "manifest.json"
#: Schema versions this package reads.
KNOWN_SCHEMA_VERSIONS = (1,)


def write_json_atomic(path, obj):
    """Write ``obj`` as indented JSON to ``path`` through a temporary file."""
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + PARTIAL_SUFFIX)
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=1, sort_keys=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# -- statistics ---------------------------------------------------------------

class ChannelStatistics:
    """Running per-channel pixel statistics (of the stored float16 values).

    ``add`` folds in one image; ``merge`` another accumulator; ``to_dict``
    gives examples, finite pixel count, NaN count, min, max, mean and
    standard deviation.
    """

    FIELDS = ("examples", "pixels", "nan_pixels", "sum", "sum_sq", "min", "max")

    def __init__(self, state=None):
        self.state = dict(state) if state else {
            "examples": 0, "pixels": 0, "nan_pixels": 0, "sum": 0.0, "sum_sq": 0.0,
            "min": math.inf, "max": -math.inf}

    def add(self, stored):
        a = np.asarray(stored, dtype=np.float64)
        finite = a[np.isfinite(a)]
        s = self.state
        s["examples"] += 1
        s["pixels"] += int(finite.size)
        s["nan_pixels"] += int(a.size - finite.size)
        if finite.size:
            s["sum"] += float(finite.sum())
            s["sum_sq"] += float(np.square(finite).sum())
            s["min"] = min(s["min"], float(finite.min()))
            s["max"] = max(s["max"], float(finite.max()))

    def merge(self, other):
        s, o = self.state, other.state
        for key in ("examples", "pixels", "nan_pixels", "sum", "sum_sq"):
            s[key] += o[key]
        s["min"], s["max"] = min(s["min"], o["min"]), max(s["max"], o["max"])

    def to_dict(self):
        s = self.state
        n = s["pixels"]
        mean = s["sum"] / n if n else None
        std = math.sqrt(max(s["sum_sq"] / n - mean * mean, 0.0)) if n else None
        return {"examples": s["examples"], "pixels": n, "nan_pixels": s["nan_pixels"],
                "min": s["min"] if n else None, "max": s["max"] if n else None,
                "mean": mean, "std": std}

    def to_state(self):
        """JSON-safe accumulator state (infinities as None)."""
        return {k: (None if isinstance(v, float) and math.isinf(v) else v)
                for k, v in self.state.items()}

    @classmethod
    def from_state(cls, state):
        s = dict(state)
        s["min"] = math.inf if s.get("min") is None else s["min"]
        s["max"] = -math.inf if s.get("max") is None else s["max"]
        return cls(s)


# -- manifest -----------------------------------------------------------------

def new_manifest(size, channels, *, radius=None):
    """The skeleton of ``manifest.json`` (schema version 1).

    Keys: ``schema_version``; ``format``; ``package_version``; ``grid``
    (``size``, ``radius``, ``center``, orientation); ``storage`` (``dtype``
    float16, ``byte_order``, ``clip``, ``compression``); ``channels`` (name
    and unit of each channel the dataset was built for); ``splits`` (per
    split: ``range``, ``examples``, ``missing`` counts per passband,
    ``missing_combinations`` (missing channels joined by commas -> examples),
    ``statistics`` per channel, ``shards`` with ``file``, ``examples``,
    ``bytes`` and ``sha256``); ``sources`` (each input file with ``file``,
    ``channel``, ``time`` and ``sha256``); plus what the builder adds
    (``calibration``, ``pairing``).  The data are in physical units, so the
    manifest holds no network scaling.
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "format": "solar_euv TFRecord observations",
        "package_version": __version__,
        "grid": {"size": int(size),
                 "radius": float(solar_radius_px(size) if radius is None else radius),
                 "center": (size - 1) / 2.0,
                 "orientation": "solar north up; 0-based pixel centres, disk centre "
                                "at ((N-1)/2, (N-1)/2)"},
        "storage": {"dtype": "float16", "byte_order": "little", "clip": FLOAT16_MAX,
                    "compression": None},
        "channels": [{"name": ch, "unit": "G" if ch == HMI.name else "DN/s"}
                     for ch in channels],
        "splits": {},
        "sources": [],
    }


def dataset_info(path):
    """The manifest of a prepared dataset, checked, with ``"root"`` (its directory) added.

    Parameters
    ----------
    path : str or os.PathLike
        The dataset directory or its ``manifest.json``.

    Raises
    ------
    InputError
        If the manifest is missing, not JSON, not a solar_euv manifest, or of
        a schema version this package does not read.
    """
    path = pathlib.Path(os.fspath(path))
    manifest_path = path / MANIFEST_NAME if path.is_dir() else path
    if not manifest_path.is_file():
        where = path if path.is_dir() else manifest_path
        raise InputError(where, f"has no {MANIFEST_NAME}; make the dataset with "
                                "`solar-euv prepare RAW_DIR OUT_DIR`")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(manifest_path, f"cannot be read ({err})") from None
    except ValueError as err:
        raise InputError(manifest_path, f"is not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or "schema_version" not in manifest:
        raise InputError(manifest_path, "is not a solar_euv dataset manifest "
                                        "(it has no schema_version)")
    version = manifest["schema_version"]
    if version not in KNOWN_SCHEMA_VERSIONS:
        known = ", ".join(str(v) for v in KNOWN_SCHEMA_VERSIONS)
        raise InputError(manifest_path,
                         f"has schema version {version!r}, which solar_euv {__version__} "
                         f"cannot read (it reads version {known}); prepare the data again "
                         "or install the solar_euv version that wrote it")
    try:
        int(manifest["grid"]["size"])
        dict(manifest["splits"])
        [c["name"] for c in manifest["channels"]]
    except (KeyError, TypeError, ValueError):
        raise InputError(manifest_path, "is malformed: it lacks grid.size, splits "
                                        "or channels") from None
    manifest["root"] = str(manifest_path.parent)
    return manifest
