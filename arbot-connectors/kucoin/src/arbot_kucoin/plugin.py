"""Entry point of arbot-kucoin: registers the KuCoin connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector

from arbot_kucoin.connector import KucoinConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``kucoin`` connector."""
    return [KucoinConnector]
