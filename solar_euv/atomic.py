"""Atomic file writes: every file appears under its final name complete or not at all.

A writer writes to a hidden temporary sibling (``.tmp-<pid>-<name>``, same
directory, so the rename is atomic) and renames it onto the final name only
when the write succeeded; a failed or killed write leaves the previous file
untouched.  A rerun removes leftover ``.tmp-*`` files.
"""
import contextlib
import json
import os
import pathlib

__all__ = ["atomic_path", "write_json_atomic", "TMP_PREFIX"]

TMP_PREFIX = ".tmp-"


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On an exception the temporary file is removed and ``path`` is unchanged.
    An :class:`OSError` of the write itself (disk full, file too large) is
    raised again naming ``path``, not the hidden temporary name, since that
    is the file the user asked for.

    Examples
    --------
    >>> with atomic_path("model.keras") as tmp:   # doctest: +SKIP
    ...     model.save(tmp)
    """
    path = pathlib.Path(path)
    tmp = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{path.name}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        if err.filename not in (None, str(tmp), os.fspath(tmp)) or err.errno is None:
            raise
        raise OSError(err.errno, err.strerror or os.strerror(err.errno), str(path)) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json_atomic(path, data):
    """Write ``data`` as indented, key-sorted JSON to ``path`` atomically (fsync'd)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
