"""The arbot-core connector conformance suite, run against the OKX emulator (checksum 0, as
the live venue sends since June 2026, and real CRC32 checksums)."""

from __future__ import annotations

from collections.abc import Callable

from arbot.components import BotContext, Connector, MarketEvent
from arbot.testing.emulator import ConnectorConformance, EmulatorServer
from arbot_okx import OkxConnector
from arbot_okx.emulator import OkxEmulator, emulator_settings


class TestOkxConformance(ConnectorConformance):
    """Every conformance test, OKX flavour (seqId/prevSeqId only; checksum fixed to 0)."""

    def make_emulator(self) -> EmulatorServer:
        return OkxEmulator(self.symbols, seed=5, tick_interval=0.02)

    def make_connector(self, emulator: EmulatorServer, ctx: BotContext,
                       on_event: Callable[[MarketEvent], None]) -> Connector:
        return OkxConnector(emulator_settings(emulator), ctx, on_event)


class TestOkxConformanceCrc32(TestOkxConformance):
    """The same with the historical CRC32 checksum on every push (bad-checksum fault runs)."""

    def make_emulator(self) -> EmulatorServer:
        return OkxEmulator(self.symbols, seed=6, tick_interval=0.02, checksum=True)
