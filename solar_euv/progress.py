"""Progress bars over files: one tqdm bar on stderr, or nothing.

:class:`FileBar` is the bar of ``solar-euv prepare`` (files prepared,
:mod:`solar_euv.sdo.batch`) and of ``solar-euv fetch`` (files downloaded,
:mod:`solar_euv.sdo.fetch`).  Turned off, or where tqdm is not installed, it
shows nothing and its methods do nothing.
"""
__all__ = ["FileBar"]


class FileBar:
    """A tqdm bar counting files, or nothing.

    Parameters
    ----------
    desc : str
        Label before the bar (``"prepare"``, ``"fetch"``).
    total : int
        Files known at the start; :meth:`add` counts more as they become known.
    enabled : bool
        False: no bar.
    """

    def __init__(self, desc, total=0, enabled=True):
        self._bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm is optional: no bar without it
                return
            self._bar = tqdm(total=total, unit="file", desc=desc, leave=False)

    def add(self, n):
        """Count ``n`` more files to do."""
        if self._bar is not None:
            self._bar.total += n
            self._bar.refresh()

    def update(self, n=1):
        """Count ``n`` files done."""
        if self._bar is not None:
            self._bar.update(n)

    def close(self):
        """Remove the bar (``leave=False``)."""
        if self._bar is not None:
            self._bar.close()
