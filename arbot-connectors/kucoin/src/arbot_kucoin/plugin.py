"""Entry point of arbot-kucoin: registers the KuCoin connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector, ReplayDecoder

from arbot_kucoin.connector import KucoinConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``kucoin`` connector."""
    return [KucoinConnector]


@hookimpl
def arbot_register_decoders() -> Sequence[type[ReplayDecoder]]:
    """The kucoin capture decoder: replays recordings with the connector's own sync rules."""
    from arbot_kucoin.replay import KucoinReplayDecoder

    return [KucoinReplayDecoder]
