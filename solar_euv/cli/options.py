"""The command line's shared options, each declared once.

Every command that takes passbands, an image size or a verbosity spells them
the same way:

``--passbands``
    A comma-separated list, repeatable, ``all`` for the nine AIA passbands
    (``none`` for no AIA passband where a command allows it); checked against
    :mod:`solar_euv.passbands` while the command line is parsed and handed to
    the command as a tuple of names in table order.
``--image-size``
    The side of the square grid in pixels.
``-v/--verbose``, ``-q/--quiet``
    Counts (``-qq`` is quieter than ``-q``).

Older spellings (``--passband``, ``--size``) are hidden aliases for one
release: they still work and print one deprecation line on stderr naming the
new spelling.  :func:`options_from_fields` builds click options from the field
metadata of a dataclass (``TrainConfig``), so that a training option is
declared in one place.
"""
import dataclasses

import click
from click.core import ParameterSource

__all__ = ["MODEL_PASSBANDS_HELP", "image_size_option", "options_from_fields",
           "passbands_option", "seed_option", "verbosity_options"]

#: Help of ``--passbands`` in the commands that load a trained model.
MODEL_PASSBANDS_HELP = ("Only for a bare .keras file without sidecar or run directory: its "
                        "passbands, comma-separated, in output-channel order.")

# ctx.meta key: values given through a deprecated spelling, by parameter name.
_ALIASED = "solar_euv.cli.options.aliased"


def _deprecated_alias(old, new, name, *, multiple=False, type=None):
    """A hidden option ``old`` whose value goes to the parameter ``name`` (spelt ``new``).

    The alias warns on stderr when used and leaves its value in ``ctx.meta``;
    :func:`_take_alias` hands it to the parameter when the new spelling was
    not given.  Click processes options given on the command line before the
    others, so the alias is always seen first.
    """
    def remember(ctx, param, value):
        if value is None or value == ():
            return
        click.echo(f"Warning: {old} is deprecated and will be removed in the next release; "
                   f"use {new}", err=True)
        ctx.meta.setdefault(_ALIASED, {})[name] = value

    return click.option(old, f"deprecated_{name}", multiple=multiple, type=type, default=None,
                        hidden=True, expose_value=False, callback=remember)


def _take_alias(ctx, param, value):
    """``value``, or the value given through the deprecated spelling of ``param``."""
    explicit = ctx.get_parameter_source(param.name) in (ParameterSource.COMMANDLINE,
                                                        ParameterSource.ENVIRONMENT)
    aliased = ctx.meta.get(_ALIASED, {})
    if not explicit and param.name in aliased:
        return aliased[param.name]
    return value


def _apply(decorators, f):
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


# -- passbands -----------------------------------------------------------------
def passbands_option(default=("all",), *, help_text, allow_none=False, alias=None):
    """``--passbands LIST``: AIA passbands, comma-separated and repeatable, or ``all``.

    Parameters
    ----------
    default : tuple of str or None
        Value when the option is not given (``None``: the command decides).
    help_text : str
        The option's help.
    allow_none : bool
        Accept ``none`` for no AIA passband (the value is then ``()``).
    alias : str, optional
        A deprecated spelling (``"--passband"``) kept as a hidden alias.

    The command receives a tuple of passband names in the order of
    :data:`solar_euv.passbands.PASSBAND_NAMES`, or ``None``; an unknown name
    stops the command with one ``Error:`` line (exit status 1).
    """
    def parse(ctx, param, value):
        value = _take_alias(ctx, param, value)
        if value is None or value == ():
            return None if default is None else value
        if allow_none and [v.strip().lower() for v in value] == ["none"]:
            return ()
        from solar_euv.exceptions import SolarEUVError
        from solar_euv.passbands import parse_passbands

        try:
            return parse_passbands(value)
        except SolarEUVError as err:
            raise click.ClickException(str(err)) from None

    decorators = [click.option("--passbands", "passbands", multiple=True, metavar="LIST",
                               default=default, show_default=default is not None,
                               callback=parse, help=help_text)]
    if alias:
        decorators.append(_deprecated_alias(alias, "--passbands", "passbands", multiple=True))
    return lambda f: _apply(decorators, f)


# -- image size ----------------------------------------------------------------
def _power_of_two(maximum):
    def check(ctx, param, value):
        value = _take_alias(ctx, param, value)
        if value is None:
            return value
        if value < 64 or value > maximum or value & (value - 1):
            raise click.BadParameter(
                f"must be a power of two from 64 to {maximum}; received {value}")
        return value
    return check


def image_size_option(default=1024, help_text=None, *, maximum=2048, check=True, alias=None):
    """``--image-size N``: side of the square grid in pixels.

    Parameters
    ----------
    default : int or None
        Value when the option is not given.
    help_text : str, optional
        The option's help (default: a power of two from 64 to ``maximum``).
    maximum : int
        Largest size accepted.
    check : bool
        Refuse, as a usage error, anything but a power of two from 64 to
        ``maximum``; ``False`` leaves the check to the command.
    alias : str, optional
        A deprecated spelling (``"--size"``) kept as a hidden alias.
    """
    callback = _power_of_two(maximum) if check else \
        (lambda ctx, param, value: _take_alias(ctx, param, value))
    decorators = [click.option(
        "--image-size", "image_size", type=int, default=default,
        show_default=default is not None, callback=callback,
        help=help_text or f"Side of the square image grid in pixels (a power of two from 64 "
                          f"to {maximum}).")]
    if alias:
        decorators.append(_deprecated_alias(alias, "--image-size", "image_size", type=int))
    return lambda f: _apply(decorators, f)


# -- seed and verbosity --------------------------------------------------------
def seed_option(default=0, help_text="Random seed (weights, shuffling, augmentation)."):
    """``--seed S``: the seed of every random choice the command makes."""
    return click.option("--seed", type=int, default=default,
                        show_default=default is not None, help=help_text)


def verbosity_options(f=None, *, verbose_help="Print more (repeatable).",
                      quiet_help="Print less (repeatable)."):
    """``-v/--verbose`` and ``-q/--quiet``, counted, passed as ``verbose`` and ``quiet``.

    Use as ``@verbosity_options`` or with other help texts as
    ``@verbosity_options(quiet_help=...)``.
    """
    def decorate(f):
        f = click.option("-q", "--quiet", "quiet", count=True, help=quiet_help)(f)
        return click.option("-v", "--verbose", "verbose", count=True, help=verbose_help)(f)
    return decorate if f is None else decorate(f)


# -- options from a dataclass --------------------------------------------------
def _click_type(field):
    meta = field.metadata
    if "cli_type" in meta:
        return meta["cli_type"]
    if "choices" in meta:
        return click.Choice(list(meta["choices"]), case_sensitive=meta.get("case_sensitive",
                                                                            True))
    if "directory" in meta:
        return click.Path(file_okay=False)
    if "min" in meta or "max" in meta:
        kind = click.IntRange if field.type is int else click.FloatRange
        extra = {"min_open": True} if meta.get("min_open") else {}
        return kind(meta.get("min"), meta.get("max"), **extra)
    return field.type


def options_from_fields(cls, shared=None, skip=()):
    """Click options for the fields of the dataclass ``cls``, in field order.

    Each field becomes ``--field-name`` with the field's default (or its
    metadata's ``cli_default``) and the metadata's ``help``; ``choices``,
    ``min``/``max``/``min_open``, ``directory`` and ``case_sensitive`` give
    the click type (``cli_type`` names it directly), and a ``bool`` field is
    a flag (``--name/--no-name`` when its default is None: a preset
    decides).  ``shared`` maps a field name to a function ``(default=...,
    help_text=...)`` returning a shared option of this module
    (``--passbands``, ``--image-size``, ``--seed``); fields in ``skip`` get
    no option.

    Returns
    -------
    callable
        A decorator adding the options to a click command.
    """
    shared = shared or {}
    decorators = []
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        meta = field.metadata
        default = meta.get("cli_default", field.default)
        if field.name in shared:
            decorators.append(shared[field.name](default=default, help_text=meta["help"]))
            continue
        name = "--" + field.name.replace("_", "-")
        if field.type is bool and field.default is None:
            # Set by a preset unless given: --name / --no-name, default unset.
            flag = f"{name}/--no-{name[2:]}"
            decorators.append(click.option(flag, field.name, default=None, help=meta["help"]))
            continue
        if field.type is bool:
            decorators.append(click.option(name, field.name, is_flag=True, help=meta["help"]))
            continue
        decorators.append(click.option(name, field.name, type=_click_type(field),
                                       default=default, show_default=default is not None,
                                       help=meta["help"]))
    return lambda f: _apply(decorators, f)
