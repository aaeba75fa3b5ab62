"""Entry point of arbot-bithumb: registers the Bithumb connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector, ReplayDecoder

from arbot_bithumb.connector import BithumbConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``bithumb`` connector."""
    return [BithumbConnector]


@hookimpl
def arbot_register_decoders() -> Sequence[type[ReplayDecoder]]:
    """The bithumb capture decoder: replays recordings with the connector's own sync rules."""
    from arbot_bithumb.replay import BithumbReplayDecoder

    return [BithumbReplayDecoder]
