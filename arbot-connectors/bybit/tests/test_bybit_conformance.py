"""The arbot-core connector conformance suite, run against the Bybit emulator."""

from __future__ import annotations

from collections.abc import Callable

from arbot.components import BotContext, Connector, MarketEvent
from arbot.testing.emulator import ConnectorConformance, EmulatorServer
from arbot_bybit import BybitConnector
from arbot_bybit.emulator import BybitEmulator, emulator_settings


class TestBybitConformance(ConnectorConformance):
    """Every conformance test, Bybit flavour (no checksum: that test skips)."""

    def make_emulator(self) -> EmulatorServer:
        return BybitEmulator(self.symbols, seed=8, tick_interval=0.02)

    def make_connector(self, emulator: EmulatorServer, ctx: BotContext,
                       on_event: Callable[[MarketEvent], None]) -> Connector:
        return BybitConnector(emulator_settings(emulator), ctx, on_event)
