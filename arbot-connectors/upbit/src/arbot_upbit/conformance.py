"""The core conformance suite adapted to full top-N book venues (Upbit, Bithumb).

Such venues send no sequence ids: a lost message cannot be detected and needs no repair
(the next message is the whole book again), so the sequence-gap test checks that the book
converges with no resync and no reconnect; an explicit one-symbol resync is tested instead.
Subclass :class:`TopBookConformance` like :class:`~arbot.testing.emulator.ConnectorConformance`.
"""

from __future__ import annotations

import asyncio

from arbot.market import BookHealth
from arbot.testing.emulator import ConformanceSession, ConnectorConformance

__all__ = ["TopBookConformance"]


class TopBookConformance(ConnectorConformance):
    """Conformance tests for venues whose every book message is a full book."""

    def test_recovers_after_sequence_gap(self) -> None:
        """Lost messages: the next full book repairs the book, with no resync."""

        async def scenario(s: ConformanceSession) -> None:
            y0, r0 = s.stat("resyncs"), s.stat("reconnects")
            s.emulator.inject_gap(self.symbols[0], count=3)
            await asyncio.sleep(0.2)
            assert s.emulator.stats.gaps_injected == 3
            await s.wait_converged(self.recovery_timeout)
            assert s.stat("resyncs") == y0 and s.stat("reconnects") == r0
            for sym in self.symbols:
                assert s.ctx.market.health(s.venue, sym) == BookHealth.LIVE
            await s.check_steady()

        self.run(scenario)

    def test_resync_of_one_symbol(self) -> None:
        """An explicit resync empties one book, asks the venue for fresh books and leaves the
        other book live."""

        async def scenario(s: ConformanceSession) -> None:
            sym, other = self.symbols[0], self.symbols[1]
            resync = getattr(s.connector, "resync")  # noqa: B009 - venue connectors have it
            s.emulator.pause()
            resync(sym)
            assert len(s.book(sym).bids) == 0
            assert s.ctx.market.health(s.venue, other) == BookHealth.LIVE
            s.emulator.resume()
            await s.wait_converged(self.recovery_timeout)
            assert s.stat(f"resyncs:{sym}") == 1 and s.stat(f"resyncs:{other}") == 0

        self.run(scenario)
