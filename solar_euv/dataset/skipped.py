"""The unusable source files a preparation set aside, remembered across runs.

A real archive always holds some unusable files (eclipse seasons,
calibration sequences, missing data, a damaged download).  A preparation
skips each one, says so in one line, and records it in
``.prepare-skipped.jsonl`` in the output directory: one JSON line per file
with its name relative to the source directory, size, modification time,
stage (``scan``: refused from its header; ``prepare``: while calibrating),
category (:data:`solar_euv.exceptions.CATEGORIES`) and reason.  A rerun does
not read a recorded file again while its size and modification time are
unchanged (unless asked to retry), so it makes the same decisions and keeps
the shards already written; the manifest lists every skipped file.
"""
import collections
import json
import os
import pathlib

from solar_euv.exceptions import CATEGORIES

__all__ = ["SKIPPED_NAME", "SkipLedger", "summary"]

SKIPPED_NAME = ".prepare-skipped.jsonl"
"""File of the skipped sources in the output directory."""


def _identity(path):
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


class SkipLedger:
    """The skipped files of one output directory.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Output directory (created when the first file is recorded).
    root : str or os.PathLike
        Source directory; files are recorded relative to it.
    retry : bool
        Forget what earlier runs recorded: every file is read again.
    """

    def __init__(self, out_dir, root, retry=False):
        self.path = pathlib.Path(os.fspath(out_dir)) / SKIPPED_NAME
        self.root = pathlib.Path(os.fspath(root)).resolve()
        self._earlier = {} if retry else self._read()
        self._now = {}
        if retry and self.path.exists():
            self.path.unlink()

    def _read(self):
        records = {}
        try:
            with open(self.path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        record = json.loads(line)
                        records[record["file"]] = record
                    except (ValueError, KeyError, TypeError):
                        continue          # a line cut short by an interruption
        except OSError:
            pass
        return records

    def name(self, path):
        """``path`` relative to the source directory (POSIX), or absolute."""
        path = pathlib.Path(os.fspath(path)).resolve()
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def known(self, path):
        """The stage at which an earlier run skipped ``path``, or None.

        ``"scan"`` (refused from its header, before pairing) or
        ``"prepare"`` (refused while calibrating it); only while the file's
        size and modification time are unchanged.  A known file is listed
        again by :meth:`entries`.
        """
        record = self._earlier.get(self.name(path))
        try:
            if record is None or [record.get("size"), record.get("mtime_ns")] != list(
                    _identity(path)):
                return None
        except OSError:
            return None
        self._now[record["file"]] = record
        return record.get("stage", "scan")

    def add(self, error, stage):
        """Record the file of an :class:`InputError` as skipped (appended at once).

        Parameters
        ----------
        error : solar_euv.exceptions.InputError
            The file and the reason.
        stage : {"scan", "prepare"}
            Where it was refused (see :meth:`known`).
        """
        name = self.name(error.path)
        try:
            size, mtime_ns = _identity(error.path)
        except OSError:
            size = mtime_ns = None
        record = {"file": name, "size": size, "mtime_ns": mtime_ns, "stage": stage,
                  "category": error.category, "reason": error.problem}
        self._now[name] = record
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    def entries(self):
        """Manifest entries (``file``, ``category``, ``reason``) of this run, by name."""
        return [{"file": r["file"], "category": r["category"], "reason": r["reason"]}
                for _, r in sorted(self._now.items())]


def summary(entries):
    """One line counting skipped files by category, or "" for none.

    >>> summary([{"category": "QUALITY"}, {"category": "cutout"}, {"category": "cutout"}])
    '3 files skipped: 2 cutouts, 1 QUALITY; see manifest.json'
    """
    if not entries:
        return ""
    counts = collections.Counter(e["category"] for e in entries)
    parts = []
    for category, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        singular, plural = CATEGORIES.get(category, CATEGORIES["unusable"])
        parts.append(f"{n} {singular if n == 1 else plural}")
    files = "file" if len(entries) == 1 else "files"
    return f"{len(entries)} {files} skipped: {', '.join(parts)}; see manifest.json"
