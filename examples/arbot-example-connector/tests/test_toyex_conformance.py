"""The connector conformance suite shipped with arbot-core, run against Toyex's emulator."""

from __future__ import annotations

from arbot.testing.emulator import ConnectorConformance
from arbot_example_connector import ToyexConnector


class TestToyexConformance(ConnectorConformance):
    """Every conformance test (books converge, trades, drops, gaps, garbage, stalls...)."""

    connector_class = ToyexConnector
