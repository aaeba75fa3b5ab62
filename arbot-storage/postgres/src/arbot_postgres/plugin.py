"""The ``arbot`` entry point of arbot-postgres: the ``postgres`` sink and ``arbot db``."""

from __future__ import annotations

from collections.abc import Sequence

import click
from arbot import hookimpl
from arbot.components import Sink

from arbot_postgres.commands import db
from arbot_postgres.sink import PostgresSink


@hookimpl
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """The PostgreSQL journal sink."""
    return [PostgresSink]


@hookimpl
def arbot_register_commands(cli: click.Group) -> None:
    """``arbot db migrate CONFIG`` / ``arbot db version CONFIG``."""
    cli.add_command(db)
