"""The command classes of the command line: clean error handling.

Every command turns a :class:`~solar_euv.exceptions.SolarEUVError` into one
line on stderr (``Error: <file>: <problem>``) and exit status 1, never a
traceback.  Commands import TensorFlow inside their function bodies so that
``solar-euv --help`` stays fast.  The options several commands share are in
:mod:`solar_euv.cli.options`.
"""
import click

from solar_euv.exceptions import SolarEUVError

__all__ = ["SolarEUVCommand", "SolarEUVGroup", "run_command"]


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


def run_command(command, argv=None, prog_name=None):
    """Run a click ``command`` on ``argv`` as a script does; returns the exit status.

    Errors are reported as click reports them (one ``Error:`` line on
    stderr, with the usage for a usage error) instead of exiting, so that a
    script's ``main(argv)`` can be called from Python.
    """
    try:
        status = command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return 1
    return status if isinstance(status, int) else 0
