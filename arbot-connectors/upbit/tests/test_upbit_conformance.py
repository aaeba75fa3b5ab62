"""The arbot-core connector conformance suite (full-book flavour) against the Upbit emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from arbot.components import BotContext, Connector, MarketEvent
from arbot.testing.emulator import EmulatorServer, FullBookConformance
from arbot_upbit import UpbitConnector
from arbot_upbit.emulator import UpbitEmulator, emulator_settings


class TestUpbitConformance(FullBookConformance):
    """Every conformance test, Upbit flavour (KRW markets)."""

    symbols: ClassVar[tuple[str, ...]] = ("BTC/KRW", "ETH/KRW")

    def make_emulator(self) -> EmulatorServer:
        return UpbitEmulator(self.symbols, seed=5, tick_interval=0.02)

    def make_connector(self, emulator: EmulatorServer, ctx: BotContext,
                       on_event: Callable[[MarketEvent], None]) -> Connector:
        return UpbitConnector(emulator_settings(emulator), ctx, on_event)
