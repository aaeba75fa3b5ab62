"""Entry point of arbot-okx: registers the OKX connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector, ReplayDecoder

from arbot_okx.connector import OkxConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``okx`` connector."""
    return [OkxConnector]


@hookimpl
def arbot_register_decoders() -> Sequence[type[ReplayDecoder]]:
    """The okx capture decoder: replays recordings with the connector's own sync rules."""
    from arbot_okx.replay import OkxReplayDecoder

    return [OkxReplayDecoder]
