"""The arbot-core connector conformance suite against KuCoin's own emulator."""

from __future__ import annotations

from arbot.testing.emulator import ConnectorConformance
from arbot_kucoin import KucoinConnector


class TestKucoinConformance(ConnectorConformance):
    """Every conformance test, KuCoin flavour."""

    connector_class = KucoinConnector
    emulator_seed = 5
