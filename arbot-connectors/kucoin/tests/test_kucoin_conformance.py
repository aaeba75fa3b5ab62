"""The arbot-core connector conformance suite, run against the KuCoin emulator."""

from __future__ import annotations

from collections.abc import Callable

from arbot.components import BotContext, Connector, MarketEvent
from arbot.testing.emulator import ConnectorConformance, EmulatorServer
from arbot_kucoin import KucoinConnector
from arbot_kucoin.emulator import KucoinEmulator, emulator_settings


class TestKucoinConformance(ConnectorConformance):
    """Every conformance test, KuCoin flavour."""

    def make_emulator(self) -> EmulatorServer:
        return KucoinEmulator(self.symbols, seed=13, tick_interval=0.02)

    def make_connector(self, emulator: EmulatorServer, ctx: BotContext,
                       on_event: Callable[[MarketEvent], None]) -> Connector:
        return KucoinConnector(emulator_settings(emulator), ctx, on_event)
