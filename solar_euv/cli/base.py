"""Shared pieces of the command line: error handling and common options.

Every command turns a :class:`~solar_euv.exceptions.SolarEUVError` into one
line on stderr (``Error: <file>: <problem>``) and exit status 1, never a
traceback.  Commands import TensorFlow inside their function bodies so that
``solar-euv --help`` stays fast.
"""
import click

from solar_euv.exceptions import SolarEUVError

__all__ = ["SolarEUVCommand", "SolarEUVGroup", "image_size_option", "seed_option",
           "verbosity_options"]


def _invoke_cleanly(invoke, ctx):
    try:
        return invoke(ctx)
    except SolarEUVError as err:
        raise click.ClickException(str(err)) from None
    except OSError as err:
        # Disk full, permission denied, missing file: the OS names the file.
        name = f"{err.filename}: " if getattr(err, "filename", None) else ""
        raise click.ClickException(f"{name}{err.strerror or err}") from None
    except MemoryError:
        raise click.ClickException(
            "ran out of memory; try a smaller --batch-size or --image-size") from None


class SolarEUVCommand(click.Command):
    """A click command that reports package errors as one clean sentence."""

    def invoke(self, ctx):
        return _invoke_cleanly(super().invoke, ctx)


class SolarEUVGroup(click.Group):
    """A click group whose subcommands report package errors cleanly."""

    command_class = SolarEUVCommand

    def invoke(self, ctx):
        return _invoke_cleanly(super().invoke, ctx)


def _power_of_two(ctx, param, value):
    if value is None:
        return value
    if value < 64 or value > 2048 or value & (value - 1):
        raise click.BadParameter(
            f"must be a power of two from 64 to 2048; received {value}")
    return value


def image_size_option(default=1024, help_text=None):
    """``--image-size N``: side of the square grid in pixels (power of two)."""
    return click.option(
        "--image-size", type=int, default=default, show_default=True,
        callback=_power_of_two,
        help=help_text or "Side of the square image grid in pixels "
                          "(a power of two from 64 to 2048).")


def seed_option(default=0):
    """``--seed S``: the seed of every random choice the command makes."""
    return click.option("--seed", type=int, default=default, show_default=True,
                        help="Random seed (weights, shuffling, augmentation).")


def verbosity_options(f):
    """``-v/--verbose`` and ``-q/--quiet`` counts stored as ``verbosity``."""
    f = click.option("-q", "--quiet", "quiet", count=True,
                     help="Print less (repeatable).")(f)
    f = click.option("-v", "--verbose", "verbose", count=True,
                     help="Print more (repeatable).")(f)
    return f
