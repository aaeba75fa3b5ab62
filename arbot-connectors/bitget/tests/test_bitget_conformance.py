"""The arbot-core connector conformance suite, run against the Bitget emulator."""

from __future__ import annotations

from collections.abc import Callable

from arbot.components import BotContext, Connector, MarketEvent
from arbot.testing.emulator import ConnectorConformance, EmulatorServer
from arbot_bitget import BitgetConnector
from arbot_bitget.emulator import BitgetEmulator, emulator_settings


class TestBitgetConformance(ConnectorConformance):
    """Every conformance test, Bitget flavour (checksums on every update). Bitget's ``seq``
    only orders messages (no ``prevSeq``, no promised contiguity), so a lost update is caught
    by the next update's checksum: the gap scenario watches ``checksum_failures``."""

    gap_counter = "checksum_failures"

    def make_emulator(self) -> EmulatorServer:
        return BitgetEmulator(self.symbols, seed=9, tick_interval=0.02)

    def make_connector(self, emulator: EmulatorServer, ctx: BotContext,
                       on_event: Callable[[MarketEvent], None]) -> Connector:
        return BitgetConnector(emulator_settings(emulator), ctx, on_event)
