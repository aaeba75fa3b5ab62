"""The arbot-core connector conformance suite, run against the Binance emulator."""

from __future__ import annotations

from collections.abc import Callable

from arbot.components import BotContext, Connector, MarketEvent
from arbot.testing.emulator import ConnectorConformance, EmulatorServer
from arbot_binance import BinanceConnector
from arbot_binance.emulator import BinanceEmulator, emulator_settings


class TestBinanceConformance(ConnectorConformance):
    """Every conformance test, Binance flavour."""

    def make_emulator(self) -> EmulatorServer:
        return BinanceEmulator(self.symbols, seed=11, tick_interval=0.02)

    def make_connector(self, emulator: EmulatorServer, ctx: BotContext,
                       on_event: Callable[[MarketEvent], None]) -> Connector:
        return BinanceConnector(emulator_settings(emulator), ctx, on_event)
