"""The arbot-core connector conformance suite against Binance's own emulator."""

from __future__ import annotations

from arbot.testing.emulator import ConnectorConformance
from arbot_binance import BinanceConnector


class TestBinanceConformance(ConnectorConformance):
    """Every conformance test, Binance flavour."""

    connector_class = BinanceConnector
    emulator_seed = 11
