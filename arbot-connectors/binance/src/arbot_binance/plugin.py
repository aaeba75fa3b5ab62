"""Entry point of arbot-binance: registers the Binance connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector

from arbot_binance.connector import BinanceConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``binance`` connector."""
    return [BinanceConnector]
