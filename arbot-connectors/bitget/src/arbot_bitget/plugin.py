"""Entry point of arbot-bitget: registers the Bitget connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector, ReplayDecoder

from arbot_bitget.connector import BitgetConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``bitget`` connector."""
    return [BitgetConnector]


@hookimpl
def arbot_register_decoders() -> Sequence[type[ReplayDecoder]]:
    """The bitget capture decoder: replays recordings with the connector's own sync rules."""
    from arbot_bitget.replay import BitgetReplayDecoder

    return [BitgetReplayDecoder]
