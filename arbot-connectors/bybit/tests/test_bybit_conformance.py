"""The arbot-core connector conformance suite against Bybit's own emulator."""

from __future__ import annotations

from arbot.testing.emulator import ConnectorConformance
from arbot_bybit import BybitConnector


class TestBybitConformance(ConnectorConformance):
    """Every conformance test, Bybit flavour."""

    connector_class = BybitConnector
    emulator_seed = 8
