"""Entry point of arbot-bybit: registers the Bybit connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector, ReplayDecoder

from arbot_bybit.connector import BybitConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``bybit`` connector."""
    return [BybitConnector]


@hookimpl
def arbot_register_decoders() -> Sequence[type[ReplayDecoder]]:
    """The bybit capture decoder: replays recordings with the connector's own sync rules."""
    from arbot_bybit.replay import BybitReplayDecoder

    return [BybitReplayDecoder]
