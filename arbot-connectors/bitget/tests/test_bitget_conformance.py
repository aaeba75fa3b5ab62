"""The arbot-core connector conformance suite, run against the Bitget emulator."""

from __future__ import annotations

from collections.abc import Callable

from arbot.components import BotContext, Connector, MarketEvent
from arbot.market import BookHealth
from arbot.testing.emulator import ConformanceSession, ConnectorConformance, EmulatorServer
from arbot_bitget import BitgetConnector
from arbot_bitget.emulator import BitgetEmulator, emulator_settings


class TestBitgetConformance(ConnectorConformance):
    """Every conformance test, Bitget flavour (checksums on every update)."""

    def make_emulator(self) -> EmulatorServer:
        return BitgetEmulator(self.symbols, seed=9, tick_interval=0.02)

    def make_connector(self, emulator: EmulatorServer, ctx: BotContext,
                       on_event: Callable[[MarketEvent], None]) -> Connector:
        return BitgetConnector(emulator_settings(emulator), ctx, on_event)

    def test_recovers_after_sequence_gap(self) -> None:
        """A lost update. Bitget's ``seq`` only orders messages (no ``prevSeq``, no promised
        contiguity), so the loss is caught by the next update's checksum, not counted as a
        sequence gap; the rest is the core test: only that symbol resynced, no reconnect,
        equal again in time."""

        async def scenario(s: ConformanceSession) -> None:
            sym, other = self.symbols[0], self.symbols[1]
            c0, y0, o0 = s.stat("checksum_failures"), s.stat(f"resyncs:{sym}"), s.stat(f"resyncs:{other}")
            r0 = s.stat("reconnects")
            s.emulator.inject_gap(sym)
            await s.wait_for(lambda: s.stat(f"resyncs:{sym}") > y0, self.recovery_timeout,
                             "resync after a lost update")
            await s.wait_converged(self.recovery_timeout)
            assert s.stat("checksum_failures") > c0 and s.stat("reconnects") == r0
            assert s.stat(f"resyncs:{other}") == o0
            assert s.ctx.market.health(s.venue, other) == BookHealth.LIVE
            await s.check_steady()

        self.run(scenario)

