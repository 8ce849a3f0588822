"""The ``solar-euv`` command group.

Each subcommand lives in its own module of :mod:`solar_euv.cli` and exposes a
click command named ``command``; add its module name to ``COMMANDS`` to
register it.
"""
import importlib
import os

import click

from solar_euv._version import __version__
from solar_euv.cli.base import SolarEUVGroup

__all__ = ["cli", "COMMANDS"]

# TensorFlow's C++ start-up chatter is not for command-line users.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Module names under solar_euv.cli, one command each.
COMMANDS = [
    "networks",
    "sample",
    "prepare",
    "train",
    "fetch",
    "predict",
    "evaluate",
    "export",
]


@click.group(cls=SolarEUVGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="solar-euv")
def cli():
    """Turn SDO/HMI magnetograms into SDO/AIA UV and EUV images (Park et al. 2019).

    Run ``solar-euv COMMAND --help`` for the options of each command.
    """


for _name in COMMANDS:
    cli.add_command(importlib.import_module(f"solar_euv.cli.{_name}").command)
