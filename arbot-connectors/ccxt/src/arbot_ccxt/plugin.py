"""Entry point of arbot-ccxt: registers the generic ccxt connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector

from arbot_ccxt.connector import CcxtConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``ccxt`` connector."""
    return [CcxtConnector]
