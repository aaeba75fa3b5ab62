"""Entry point of arbot-binance: registers the Binance connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector, ReplayDecoder

from arbot_binance.connector import BinanceConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``binance`` connector."""
    return [BinanceConnector]


@hookimpl
def arbot_register_decoders() -> Sequence[type[ReplayDecoder]]:
    """The binance capture decoder: replays recordings with the connector's own sync rules."""
    from arbot_binance.replay import BinanceReplayDecoder

    return [BinanceReplayDecoder]
