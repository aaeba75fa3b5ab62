"""The arbot-core connector conformance suite against Gate's own emulator."""

from __future__ import annotations

from arbot.testing.emulator import ConnectorConformance
from arbot_gate import GateConnector


class TestGateConformance(ConnectorConformance):
    """Every conformance test, Gate flavour."""

    connector_class = GateConnector
    emulator_seed = 5
