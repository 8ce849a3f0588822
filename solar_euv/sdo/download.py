"""Resumable downloads (JSOC, NSO), and the error raised when an archive cannot be used.

Data go to ``NAME.part`` first (continued with an HTTP Range request when a
partial file is there) and are renamed when complete; each file is retried
with a growing pause.  Without a network connection, or when JSOC refuses a
query or an export, :class:`FetchError` says so in one sentence.
"""
import os
import pathlib
import socket
import time as _time
import urllib.error
import urllib.request

from solar_euv.exceptions import SolarEUVError

__all__ = ["FetchError", "JSOC_URL", "NETWORK_ERRORS", "offline_error", "download"]

JSOC_URL = "http://jsoc.stanford.edu"
"""JSOC's address, named in the offline message."""

NETWORK_ERRORS = (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError,
                  socket.gaierror)
"""Exceptions that mean the network (or JSOC) could not be reached."""


class FetchError(SolarEUVError):
    """An archive (JSOC, NSO) cannot be reached, refuses a query, or a download fails."""


def offline_error(err, *, service="JSOC", address=JSOC_URL):
    """The one-sentence :class:`FetchError` for a network error ``err`` reaching ``service``."""
    reason = getattr(err, "reason", None) or err
    return FetchError(f"cannot reach {service} ({address}): {reason}; check the network "
                      "connection (fetch needs internet access; nothing was downloaded "
                      "for the failed step, and rerunning continues where it stopped)")


def download(url, path, *, retries=3, timeout=60, pause=5.0, opener=None):
    """Download ``url`` to ``path`` resumably; skip when ``path`` exists.

    Data go to ``path + ".part"`` (continued with an HTTP Range request if a
    partial file is there) and are renamed to ``path`` when complete (the
    length announced by the server, when given, must match).

    Parameters
    ----------
    url : str
    path : str or os.PathLike
    retries : int
        Further attempts after a failed one, pausing ``pause``, ``2 pause``, ...
    timeout : float
        Seconds to wait for the server per attempt.
    opener : callable, optional
        ``opener(request, timeout=...)`` returning a response; defaults to
        :func:`urllib.request.urlopen` (tests pass a fake).

    Returns
    -------
    bool
        True if downloaded, False if it was already there.

    Raises
    ------
    FetchError
        When every attempt failed.
    """
    path = pathlib.Path(path)
    if path.exists():
        return False
    opener = opener or urllib.request.urlopen
    part = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    last = None
    for attempt in range(int(retries) + 1):
        if attempt:
            _time.sleep(pause * attempt)
        have = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url)
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            with opener(request, timeout=timeout) as response:
                status = getattr(response, "status", 200)
                resumed = have and status == 206
                length = response.headers.get("Content-Length") if hasattr(
                    response, "headers") else None
                expected = (have if resumed else 0) + int(length) if length else None
                with open(part, "ab" if resumed else "wb") as fh:
                    while True:
                        chunk = response.read(1 << 20)
                        if not chunk:
                            break
                        fh.write(chunk)
            size = part.stat().st_size
            if expected is not None and size != expected:
                last = f"incomplete transfer ({size} of {expected} bytes)"
                continue
            os.replace(part, path)
            return True
        except urllib.error.HTTPError as err:
            last = f"HTTP {err.code} {err.reason}"
            if err.code == 416:          # range not satisfiable: start over
                part.unlink(missing_ok=True)
            elif 400 <= err.code < 500 and err.code != 429:
                break
        except NETWORK_ERRORS as err:
            last = str(getattr(err, "reason", None) or err)
    raise FetchError(f"{path}: download from {url} failed after {int(retries) + 1} "
                     f"attempts ({last}); run fetch again to continue")
