"""Entry point of arbot-okx: registers the OKX connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector

from arbot_okx.connector import OkxConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``okx`` connector."""
    return [OkxConnector]
