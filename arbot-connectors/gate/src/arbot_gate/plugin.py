"""Entry point of arbot-gate: registers the Gate connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector, ReplayDecoder

from arbot_gate.connector import GateConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``gate`` connector."""
    return [GateConnector]


@hookimpl
def arbot_register_decoders() -> Sequence[type[ReplayDecoder]]:
    """The gate capture decoder: replays recordings with the connector's own sync rules."""
    from arbot_gate.replay import GateReplayDecoder

    return [GateReplayDecoder]
