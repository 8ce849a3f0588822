"""SHA-256 of files, as manifests, run configurations and calibration records write them.

TensorFlow-free, so that :mod:`solar_euv.sdo` (which never imports
TensorFlow) and :mod:`solar_euv.dataset` share one definition.
"""
import hashlib

__all__ = ["file_sha256"]


def file_sha256(path, chunk=1 << 22):
    """Hex SHA-256 of a file's bytes, read ``chunk`` bytes at a time.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
