"""The plugin module named by the ``arbot`` entry point: registers the Toyex connector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Connector

from arbot_example_connector.connector import ToyexConnector


@hookimpl
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """The ``toyex`` connector."""
    return [ToyexConnector]
