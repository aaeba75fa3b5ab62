"""Entry point of arbot-bitget: registers the Bitget connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector

from arbot_bitget.connector import BitgetConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``bitget`` connector."""
    return [BitgetConnector]
