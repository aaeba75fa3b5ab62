"""Plugin registration: the ``arbot sweep`` command."""

from __future__ import annotations

import click
from arbot.hookspecs import hookimpl

from arbot_sweep.command import sweep


@hookimpl
def arbot_register_commands(cli: click.Group) -> None:
    """Add ``arbot sweep``."""
    cli.add_command(sweep)
