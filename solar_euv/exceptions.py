"""Errors and warnings raised by solar_euv.

Every error a user can cause by giving a wrong input derives from
:class:`SolarEUVError`.  Its message is one sentence that names the file (or
option) and what is wrong with it; the command line prints that sentence and
exits with a non-zero status instead of showing a traceback.
"""
from astropy.utils.exceptions import AstropyUserWarning

__all__ = ["SolarEUVError", "InputError", "SolarEUVWarning", "CATEGORIES"]

CATEGORIES = {
    "unreadable": ("unreadable", "unreadable"),
    "product": ("wrong product", "wrong products"),
    "cutout": ("cutout", "cutouts"),
    "header": ("bad header", "bad headers"),
    "QUALITY": ("QUALITY", "QUALITY"),
    "damaged": ("damaged", "damaged"),
    "uncorrectable": ("uncorrectable", "uncorrectable"),
    "unusable": ("unusable", "unusable"),
}
"""Kinds of unusable input file -> (singular, plural) words for counting them."""


class SolarEUVError(Exception):
    """Base class of the errors solar_euv raises for bad input or configuration."""


class InputError(SolarEUVError):
    """An input file or directory is unusable.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file.
    problem : str
        What is wrong with it, as a sentence fragment
        (``"is not a FITS file"``).
    category : str
        The kind of problem, one of :data:`CATEGORIES` (``"unreadable"``,
        ``"QUALITY"``, ...), used to count the files a batch skipped.
    """

    def __init__(self, path, problem, category="unusable"):
        self.path = str(path)
        # One line: wrapped messages of astropy/sunpy errors are joined.
        self.problem = " ".join(str(problem).split())
        self.category = category if category in CATEGORIES else "unusable"
        problem = self.problem
        message = f"{self.path}: {problem}"
        super().__init__(message)

    def __reduce__(self):
        # Rebuild from (path, problem, category) so the error survives the trip
        # back from a worker process (multiprocessing pickles exceptions).
        return (type(self), (self.path, self.problem, self.category))


class SolarEUVWarning(AstropyUserWarning):
    """Warning issued by solar_euv for a usable but suspicious input."""
