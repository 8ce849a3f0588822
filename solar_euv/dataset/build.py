"""Prepared observations -> sharded TFRecord splits and ``manifest.json``.

:func:`build_dataset` receives, for each split, the observations (a time and
the source file of each channel) and a ``load`` function that turns source
files into arrays on the common grid.  It knows nothing about FITS: the
command line passes :func:`solar_euv.sdo.batch.prepare_files` as ``load``;
tests pass arrays they made.

Sharding
--------
A split of ``n`` observations, each about ``bytes_per_example`` bytes, gets
``ceil(n * bytes_per_example / shard_bytes)`` shards (128 MiB each by
default) but never fewer than ``min(n, min_shards)`` (16), so FILE
auto-sharding has files for up to 16 workers even in a small dataset.
Observations, in time order, are dealt round-robin: observation ``i`` goes to
shard ``i % count``, so each shard spans the whole date range.  The
assignment depends only on the observations, so a rerun writes the same
shards byte for byte.

Interruption and rerun
----------------------
Each shard is written to ``<name>.partial`` and renamed when complete; after
every shard the builder appends it to ``.prepare-state.jsonl`` (with a key
made of the schema version, grid, channels, ``identity`` and the name, size
and modification time of each source file).  A rerun removes ``*.partial``
leftovers and shard files of other layouts, keeps each shard whose key,
length and modification time still match, and writes the rest.
"""
import concurrent.futures
import datetime
import hashlib
import json
import math
import os
import pathlib

import numpy as np

from solar_euv._version import __version__
from solar_euv.dataset.manifest import (MANIFEST_NAME, ChannelStatistics, file_sha256,
                                        new_manifest, write_json_atomic)
from solar_euv.dataset.records import (CHANNELS, PARTIAL_SUFFIX, SCHEMA_VERSION, ShardWriter,
                                       encode_example, is_shard_name, shard_name, to_float16)
from solar_euv.exceptions import InputError, SolarEUVError
from solar_euv.scaling import solar_radius_px

__all__ = [
    "DEFAULT_SHARD_BYTES",
    "DEFAULT_MIN_SHARDS",
    "STATE_NAME",
    "plan_shards",
    "build_dataset",
]

DEFAULT_SHARD_BYTES = 128 * 2 ** 20
"""Target size of one shard (bytes)."""

DEFAULT_MIN_SHARDS = 16
"""Fewest shards per split (when it has that many observations)."""

STATE_NAME = ".prepare-state.jsonl"


def plan_shards(n_examples, bytes_per_example, shard_bytes=DEFAULT_SHARD_BYTES,
                min_shards=DEFAULT_MIN_SHARDS):
    """Indices of the observations of each shard (round-robin), as a list of lists.

    >>> plan_shards(5, 100, shard_bytes=250, min_shards=1)
    [[0, 2, 4], [1, 3]]
    """
    if n_examples <= 0:
        return []
    count = math.ceil(n_examples * bytes_per_example / max(1, shard_bytes))
    count = min(n_examples, max(count, min_shards, 1))
    return [list(range(k, n_examples, count)) for k in range(count)]


def _source_name(path, root):
    path = pathlib.Path(os.fspath(path)).resolve()
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)


def _source_id(path, root):
    try:
        st = os.stat(path)
    except OSError as err:
        raise InputError(path, f"cannot be read ({err.strerror})") from None
    return [_source_name(path, root), st.st_size, st.st_mtime_ns]


def _missing_key(missing):
    return ",".join(missing) if missing else "none"


def _load_state(out_dir, planned):
    """Records of the shards completed by earlier runs (``.prepare-state.jsonl``).

    The file holds one JSON line per completed shard, appended as each is
    renamed into place; a line cut short by an interruption is ignored.  It
    is rewritten here keeping only the shards of the current layout.
    """
    shards = {}
    try:
        with open(out_dir / STATE_NAME, encoding="utf-8") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if (isinstance(record, dict) and record.get("schema_version") == SCHEMA_VERSION
                        and record.get("file") in planned):
                    shards[record["file"]] = record
    except OSError:
        pass
    text = "".join(json.dumps(r) + "\n" for r in shards.values())
    tmp = out_dir / (STATE_NAME + PARTIAL_SUFFIX)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out_dir / STATE_NAME)
    return shards


def _append_state(out_dir, record):
    with open(out_dir / STATE_NAME, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _clean(out_dir, planned):
    """Remove partial files and shards of another layout left by earlier runs."""
    for entry in out_dir.iterdir():
        name = entry.name
        if name.endswith(PARTIAL_SUFFIX) and (is_shard_name(name[:-len(PARTIAL_SUFFIX)])
                                              or name[:-len(PARTIAL_SUFFIX)]
                                              in (MANIFEST_NAME, STATE_NAME)):
            entry.unlink()
        elif is_shard_name(name) and name not in planned:
            entry.unlink()


def build_dataset(splits, out_dir, *, load, size, channels=CHANNELS, source_root=None,
                  shard_bytes=DEFAULT_SHARD_BYTES, min_shards=DEFAULT_MIN_SHARDS,
                  identity=None, split_info=None, metadata=None, progress=True,
                  on_error=None, exclude=()):
    """Write the TFRecord shards of every split and ``manifest.json``.

    Parameters
    ----------
    splits : mapping
        Split name -> sequence of observations.  An observation has ``time``
        (UTC ISO-8601), ``sources`` (channel -> file) and optionally ``times``
        (channel -> time); :class:`solar_euv.sdo.pairing.Observation` fits.
    out_dir : str or os.PathLike
        Output directory (created).
    load : callable
        ``load(paths)`` -> iterable of ``(size, size)`` arrays (or objects with
        a ``data`` array, such as :class:`solar_euv.sdo.prep.PreparedImage`)
        in physical units, in the order of ``paths``.  It is called once,
        with the sources of every shard to be written, and consumed lazily
        (a generator over a process pool fits).
    size : int
        Grid side N.
    channels : sequence of str
        Channels stored (``"hmi"`` and passband names); sources of other
        channels are ignored.
    source_root : path, optional
        Source files are recorded relative to this directory.
    shard_bytes, min_shards : int
        Shard sizing, see the module documentation.
    identity : JSON-able, optional
        What else determines the arrays (calibration table, preparation
        options); a change makes a rerun rewrite every shard.
    split_info : dict, optional
        Split name -> JSON-able description (its date range) stored in the
        manifest.
    metadata : dict, optional
        Extra top-level manifest entries (``calibration``, ``pairing``); a
        callable value is called when the manifest is written, after every
        shard (``skipped``: the files ``on_error`` set aside).
    progress : bool
        Show a progress bar on stderr.
    on_error : callable, optional
        ``load`` may yield an :class:`~solar_euv.exceptions.InputError` in
        place of an array; ``on_error(error, channel)`` is then called: when
        it returns, the channel is missing from that observation; it may
        raise to stop.  Without it the error is raised.
    exclude : collection of str, optional
        Source files not to load: their channels are missing.

    Returns
    -------
    dict
        The manifest written.
    """
    from tqdm.auto import tqdm

    out_dir = pathlib.Path(os.fspath(out_dir))
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "exists and is not a directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    root = None if source_root is None else pathlib.Path(os.fspath(source_root)).resolve()
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise SolarEUVError(f"unknown channel(s) {', '.join(unknown)}")
    channels = tuple(c for c in CHANNELS if c in channels)
    bytes_per_example = 2 * size * size * len(channels)
    radius = solar_radius_px(size)

    plans = {name: plan_shards(len(obs), bytes_per_example, shard_bytes, min_shards)
             for name, obs in splits.items()}
    planned = {shard_name(name, k, len(plan)) for name, plan in plans.items()
               for k in range(len(plan))}
    _clean(out_dir, planned)
    done = _load_state(out_dir, planned)

    # Which shards must be (re)written, and the source files they need, in order.
    layout, needed = [], []
    for name, observations in splits.items():
        observations = sorted(observations, key=lambda o: o.time)
        for k, indices in enumerate(plans[name]):
            fname = shard_name(name, k, len(plans[name]))
            members = [observations[i] for i in indices]
            key = _shard_key(fname, members, channels, size, identity, root)
            todo = not _still_valid(out_dir / fname, done.get(fname), key)
            wanted = [(obs, ch, obs.sources[ch]) for obs in members for ch in channels
                      if ch in obs.sources and obs.sources[ch] not in exclude] if todo else None
            layout.append((name, fname, members, key, wanted))
            needed.extend(p for _, _, p in wanted or ())

    manifest = new_manifest(size, channels, radius=radius)
    manifest["created"] = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    entries = {name: {"stats": {ch: ChannelStatistics() for ch in channels},
                      "missing_combinations": {}, "shards": [], "examples": len(obs)}
               for name, obs in splits.items()}
    sources = {}
    bar = tqdm(total=sum(len(obs) for obs in splits.values()), unit="obs", desc="write",
               disable=not progress, dynamic_ncols=True)
    hasher = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    arrays = iter(())
    try:
        digests = hasher.map(file_sha256, needed)  # hashed while load() works
        arrays = iter(load(needed) if needed else ())
        for name, fname, members, key, wanted in layout:
            if wanted is None:
                record = done[fname]
            else:
                record = _write_shard(out_dir / fname, members, wanted, arrays, digests,
                                      channels, size, radius, root, on_error)
                record.update(file=fname, key=key, schema_version=SCHEMA_VERSION)
                _append_state(out_dir, record)
            bar.update(len(members))
            entry = entries[name]
            for ch, st in record["statistics"].items():
                entry["stats"][ch].merge(ChannelStatistics.from_state(st))
            for combo, n in record["missing_combinations"].items():
                entry["missing_combinations"][combo] = (
                    entry["missing_combinations"].get(combo, 0) + n)
            for src in record["sources"]:
                sources[src["file"]] = src
            entry["shards"].append({"file": fname, "examples": record["examples"],
                                    "bytes": record["bytes"], "sha256": record["sha256"]})
    finally:
        # An interrupted build closes the loader now (its pool or Dask tasks),
        # not when it is collected, after the caller's cluster is gone.
        getattr(arrays, "close", lambda: None)()
        hasher.shutdown(wait=True, cancel_futures=True)
        bar.close()

    for name, entry in entries.items():
        combos = entry["missing_combinations"]
        manifest["splits"][name] = {
            "range": (split_info or {}).get(name),
            "examples": entry["examples"],
            "missing": {ch: sum(n for combo, n in combos.items() if ch in combo.split(","))
                        for ch in channels},
            "missing_combinations": dict(sorted(combos.items())),
            "statistics": {ch: st.to_dict() for ch, st in entry["stats"].items()},
            "shards": entry["shards"],
        }
    manifest["sources"] = sorted(sources.values(), key=lambda s: (s["time"], s["channel"],
                                                                  s["file"]))
    manifest.update({k: v() if callable(v) else v for k, v in (metadata or {}).items()})
    write_json_atomic(out_dir / MANIFEST_NAME, manifest)
    return manifest


def _shard_key(fname, members, channels, size, identity, root):
    ident = [SCHEMA_VERSION, __version__, fname, size, list(channels), identity]
    for obs in members:
        ident.append([obs.time, sorted([ch] + _source_id(path, root)
                                       for ch, path in obs.sources.items() if ch in channels)])
    text = json.dumps(ident, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _still_valid(path, record, key):
    if not record or record.get("key") != key:
        return False
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_size == record.get("bytes") and st.st_mtime_ns == record.get("mtime_ns")


def _write_shard(path, members, wanted, arrays, digests, channels, size, radius, root,
                 on_error):
    """Write one shard from the next prepared arrays; return its state record.

    ``wanted`` lists ``(observation, channel, source)`` in the order in which
    ``arrays`` and ``digests`` (iterators shared by all shards) deliver them.
    An :class:`InputError` in ``arrays`` goes to ``on_error`` (see
    :func:`build_dataset`).
    """
    by_obs, sources = {}, []
    for obs, ch, p in wanted:
        try:
            a = next(arrays)
        except StopIteration:
            raise SolarEUVError("the image loader returned fewer images than files "
                                f"(it stopped before {p})") from None
        digest = next(digests)
        if isinstance(a, InputError):
            if on_error is None:
                raise a
            on_error(a, ch)
            continue
        a = getattr(a, "data", a)
        if np.shape(a) != (size, size):
            raise InputError(p, f"was prepared to shape {np.shape(a)}, not ({size}, {size})")
        by_obs.setdefault(id(obs), {})[ch] = to_float16(a)
        sources.append({"file": _source_name(p, root), "channel": ch,
                        "time": str((getattr(obs, "times", None) or {}).get(ch, obs.time)),
                        "sha256": digest})

    stats = {ch: ChannelStatistics() for ch in channels}
    missing_combinations = {}
    with ShardWriter(path) as writer:
        for obs in members:
            images = by_obs.get(id(obs), {})
            names = {ch: _source_name(obs.sources[ch], root) for ch in images}
            writer.write(encode_example(obs.time, images, size,
                                        times=getattr(obs, "times", None), sources=names,
                                        radius=radius))
            for ch, image in images.items():
                stats[ch].add(image)
            combo = _missing_key([ch for ch in channels if ch not in images])
            missing_combinations[combo] = missing_combinations.get(combo, 0) + 1
    st = path.stat()
    return {"examples": len(members), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sha256": file_sha256(path),
            "statistics": {ch: s.to_state() for ch, s in stats.items()},
            "missing_combinations": missing_combinations, "sources": sources}
