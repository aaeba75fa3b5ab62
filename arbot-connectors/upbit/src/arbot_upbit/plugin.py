"""Entry point of arbot-upbit: registers the Upbit connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector, ReplayDecoder

from arbot_upbit.connector import UpbitConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``upbit`` connector."""
    return [UpbitConnector]


@hookimpl
def arbot_register_decoders() -> Sequence[type[ReplayDecoder]]:
    """The upbit capture decoder: replays recordings with the connector's own sync rules."""
    from arbot_upbit.replay import UpbitReplayDecoder

    return [UpbitReplayDecoder]
