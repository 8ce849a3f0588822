"""aiapy and drms, imported without letting them configure the root logger.

``drms`` (which ``aiapy`` imports) calls :func:`logging.basicConfig` when it
is imported, adding a handler to the root logger.  astropy's logger, which
prints every :class:`~astropy.utils.exceptions.AstropyWarning` -- and so every
:class:`~solar_euv.exceptions.SolarEUVWarning` -- with its own handler, also
passes each record on to the root logger, so after that import every warning
was printed twice (``WARNING: ... [module]`` and ``<date> - astropy -
WARNING: ...``).  This module is the one place solar_euv imports them: it
removes the handlers (and level) the import added to the root logger and
leaves the application's own logging configuration as it was.
"""
import contextlib
import importlib
import logging

__all__ = ["keep_root_logging", "import_module", "aiapy_calibrate", "drms"]


@contextlib.contextmanager
def keep_root_logging():
    """Undo changes the body makes to the root logger's handlers and level."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)


def import_module(name):
    """:func:`importlib.import_module` under :func:`keep_root_logging`."""
    with keep_root_logging():
        return importlib.import_module(name)


def aiapy_calibrate():
    """The :mod:`aiapy.calibrate` module."""
    return import_module("aiapy.calibrate")


def drms():
    """The :mod:`drms` module."""
    return import_module("drms")


# Imported by the preparation workers' fork server (solar_euv.sdo.prep).
aiapy_calibrate()
