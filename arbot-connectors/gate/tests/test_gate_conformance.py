"""The arbot-core connector conformance suite, run against the Gate emulator."""

from __future__ import annotations

from collections.abc import Callable

from arbot.components import BotContext, Connector, MarketEvent
from arbot.testing.emulator import ConnectorConformance, EmulatorServer
from arbot_gate import GateConnector
from arbot_gate.emulator import GateEmulator, emulator_settings


class TestKucoinConformance(ConnectorConformance):
    """Every conformance test, Gate flavour."""

    def make_emulator(self) -> EmulatorServer:
        return GateEmulator(self.symbols, seed=17, tick_interval=0.02)

    def make_connector(self, emulator: EmulatorServer, ctx: BotContext,
                       on_event: Callable[[MarketEvent], None]) -> Connector:
        return GateConnector(emulator_settings(emulator), ctx, on_event)
