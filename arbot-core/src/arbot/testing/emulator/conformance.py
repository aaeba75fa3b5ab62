"""The connector conformance suite: reusable tests every connector passes against its emulator.

Subclass :class:`ConnectorConformance` in a connector package's tests (the class name must
start with ``Test`` for pytest to collect it) and name the connector::

    class TestMyVenueConformance(ConnectorConformance):
        connector_class = MyConnector

The emulator is part of the connector contract: the default :meth:`make_emulator` is the
connector's own (``MyConnector.emulator(symbols, seed)``) and the default
:meth:`make_connector` points the connector at it with test-sized timers
(:func:`~arbot.testing.emulator.fast_settings`, plus :attr:`connector_settings`). A connector
that ships no emulator fails every test with a message saying so. Override either method for
anything else (another emulator configuration, a generic connector).

The connector must expose ``stats() -> dict[str, int]`` with at least ``reconnects``,
``resyncs``, ``resyncs:<symbol>``, ``gaps``, ``garbage_frames`` and ``checksum_failures``, and
keep its books in ``ctx.market`` (health set with ``ctx.market.set_health``). Each test runs its
own event loop, emulator and connector; nothing is shared between tests.

"Converged" means: the book's health is ``live`` and its levels equal the emulator's book,
level for level (so no ghost level survived).
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar, NoReturn

from arbot.book import OrderBook
from arbot.clock import WallClock
from arbot.components import BotContext, Connector, MarketEvent
from arbot.config import BotConfig
from arbot.connectors.base import StreamingConnector
from arbot.errors import ArbotError
from arbot.events import BookUpdate, Side, TradeTick
from arbot.market import BookHealth, MarketState
from arbot.portfolio import Portfolio
from arbot.stats import Counters
from arbot.testing.emulator.server import EmulatorServer
from arbot.testing.emulator.settings import fast_settings

__all__ = [
    "ConformanceSession",
    "ConnectorConformance",
    "FullBookConformance",
    "books_equal",
    "make_context",
]


def _fail(message: str) -> NoReturn:
    import pytest  # the suite runs under pytest; importing the kit does not need it

    pytest.fail(message, pytrace=False)


def make_context(mode: str = "PAPER", ws_transport: str = "auto") -> BotContext:
    """A fresh :class:`BotContext` with an empty market, for connector tests
    (``ws_transport``: ``[system] ws_transport``)."""
    market = MarketState()
    config = BotConfig.model_validate({"system": {"ws_transport": ws_transport}})
    return BotContext(
        config=config, market=market, portfolio=Portfolio(market), clock=WallClock(),
        counters=Counters(), mode=mode,
    )


def books_equal(a: OrderBook, b: OrderBook, depth: int | None = None) -> bool:
    """True when both books have the same levels (the best ``depth`` of each side, or all)."""
    if depth is None:
        return list(a.bids) == list(b.bids) and list(a.asks) == list(b.asks)
    return bool(
        a.bids.levels(depth).tolist() == b.bids.levels(depth).tolist()
        and a.asks.levels(depth).tolist() == b.asks.levels(depth).tolist()
    )


class ConformanceSession:
    """An emulator, a connector subscribed to every symbol, and the events it emitted."""

    def __init__(self, emulator: EmulatorServer, connector: Connector, ctx: BotContext,
                 events: list[MarketEvent], symbols: list[str]) -> None:
        self.emulator = emulator
        self.connector = connector
        self.ctx = ctx
        self.events = events
        self.symbols = symbols

    @property
    def venue(self) -> str:
        """The connector's venue name."""
        return str(getattr(self.connector, "venue", self.connector.name))

    def stats(self) -> dict[str, int]:
        """The connector's counters."""
        stats: dict[str, int] = self.connector.stats()
        return stats

    def stat(self, name: str) -> int:
        """One counter (0 when absent)."""
        return int(self.stats().get(name, 0))

    def book(self, symbol: str) -> OrderBook:
        """The connector's book of ``symbol``."""
        return self.ctx.market.book(self.venue, symbol)

    def converged(self, symbol: str) -> bool:
        """Live, and level for level equal to the emulator's book."""
        return self.ctx.market.health(self.venue, symbol) == BookHealth.LIVE and books_equal(
            self.book(symbol), self.emulator.true_book(symbol)
        )

    async def wait_for(self, cond: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``cond`` every few milliseconds; fail the test after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not cond():
            if loop.time() > deadline:
                import pytest  # the suite runs under pytest; importing the kit does not need it

                pytest.fail(f"{what}: not reached within {timeout} s; stats={self.stats()}")
            await asyncio.sleep(0.003)

    async def wait_converged(self, timeout: float, symbols: list[str] | None = None) -> None:
        """Wait until every symbol (or ``symbols``) is converged."""
        syms = symbols or self.symbols
        await self.wait_for(lambda: all(self.converged(s) for s in syms), timeout,
                            f"books {syms} equal to the emulator's")

    async def wait_deltas(self, n: int, timeout: float = 5.0) -> None:
        """Wait until ``n`` more delta events of every symbol were emitted (so faults hit a
        book that is already following the stream, not one just built from a snapshot)."""
        start = len(self.events)

        def enough() -> bool:
            counts = dict.fromkeys(self.symbols, 0)
            for e in self.events[start:]:
                if isinstance(e, BookUpdate) and not e.snapshot and e.symbol in counts:
                    counts[e.symbol] += 1
            return min(counts.values()) >= n

        await self.wait_for(enough, timeout, f"{n} delta events of every symbol")

    async def check_steady(self) -> None:
        """Pause the emulator, let in-flight messages drain, and check exact equality."""
        self.emulator.pause()
        try:
            await self.wait_converged(2.0)
        finally:
            self.emulator.resume()


class ConnectorConformance(ABC):
    """Reusable connector tests (see the module docstring)."""

    #: Unified symbols the tests subscribe to (the emulator must trade them).
    symbols: ClassVar[tuple[str, ...]] = ("BTC/USDT", "ETH/USDT")
    #: Seconds a book may take to converge again after a fault.
    recovery_timeout: ClassVar[float] = 1.0
    #: Seconds allowed for the first connection and synchronisation.
    startup_timeout: ClassVar[float] = 10.0
    #: How long the stall fault lasts.
    stall_seconds: ClassVar[float] = 0.4
    #: The ``stats()`` counter the sequence-gap scenario expects to grow: ``"gaps"``, or e.g.
    #: ``"checksum_failures"`` for a venue whose only integrity check is a checksum (Bitget).
    gap_counter: ClassVar[str] = "gaps"

    #: The connector under test (what the default :meth:`make_emulator` /
    #: :meth:`make_connector` build).
    connector_class: ClassVar[type[Connector]]
    #: Seed of the default emulator's scripted books.
    emulator_seed: ClassVar[int] = 5
    #: Settings the default connector gets on top of the emulator's and the test timers.
    connector_settings: ClassVar[dict[str, Any]] = {}
    #: ``[system] ws_transport`` of the test; the pytest plugin runs each streaming
    #: connector's tests once per transport (``picows``, ``websockets``).
    ws_transport: str = "auto"

    # -- to choose ---------------------------------------------------------------------------

    def _connector(self) -> type[Connector]:
        cls: type[Connector] | None = getattr(type(self), "connector_class", None)
        if cls is None:
            _fail(f"{type(self).__name__}: set connector_class (the connector under test) or "
                  "override make_emulator() and make_connector()")
        return cls

    def make_emulator(self) -> EmulatorServer:
        """A new (not started) emulator of the venue: the connector's own."""
        cls = self._connector()
        try:
            return cls.emulator(list(self.symbols), seed=self.emulator_seed)
        except ArbotError as exc:
            _fail(f"connector {cls.name!r} ships no emulator ({exc}); an emulator is part of the "
                  "connector contract: implement emulator() and emulated_settings() "
                  "(see docs/writing-a-connector.md)")

    def make_connector(self, emulator: EmulatorServer, ctx: BotContext,
                       on_event: Callable[[MarketEvent], None]) -> Connector:
        """A new connector pointed at the started ``emulator`` (test-sized timers)."""
        cls = self._connector()
        return cls(fast_settings(cls, emulator, **self.connector_settings), ctx, on_event)

    # -- harness -----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def session(self, subscribe: bool = True) -> AsyncIterator[ConformanceSession]:
        """Start the emulator and a connected connector (subscribed to books and trades)."""
        emulator = self.make_emulator()
        await emulator.start()
        ctx = make_context(ws_transport=self.ws_transport)
        events: list[MarketEvent] = []
        connector = self.make_connector(emulator, ctx, events.append)
        s = ConformanceSession(emulator, connector, ctx, events, list(self.symbols))
        try:
            if self.ws_transport != "auto" and isinstance(connector, StreamingConnector):
                used = {feed.ws.transport_name for feed in connector.feeds}
                if used != {self.ws_transport}:
                    _fail(f"{connector.name}: asked for the {self.ws_transport} transport, "
                          f"connected with {used}")
            if subscribe:
                await connector.load_markets()
                await connector.connect()
                await connector.subscribe_orderbook(list(self.symbols))
                await connector.subscribe_trades(list(self.symbols))
                await s.wait_converged(self.startup_timeout)
                await s.wait_deltas(3)
            yield s
        finally:
            await connector.close()
            await emulator.stop()

    def run(self, scenario: Callable[[ConformanceSession], Awaitable[None]],
            subscribe: bool = True) -> None:
        """Run one async scenario in a fresh event loop."""

        async def main() -> None:
            async with self.session(subscribe) as s:
                await scenario(s)

        asyncio.run(main())

    # -- tests -------------------------------------------------------------------------------

    def test_load_markets(self) -> None:
        """load_markets returns metadata for the symbols, with tick and step from the venue."""

        async def scenario(s: ConformanceSession) -> None:
            infos = {i.symbol: i for i in await s.connector.load_markets()}
            for sym in self.symbols:
                assert sym in infos, f"{sym} missing from load_markets()"
                info = infos[sym]
                assert info.venue == s.venue
                assert f"{info.base}/{info.quote}" == sym.partition(":")[0]  # BTC/USDT:USDT too
                assert info.tick_size > 0 and info.step_size > 0
                assert 0 <= info.taker_fee < 0.01

        self.run(scenario, subscribe=False)

    def test_books_converge(self) -> None:
        """Every subscribed book goes live and equals the emulator's book, never crossed."""

        async def scenario(s: ConformanceSession) -> None:
            await s.check_steady()
            for sym in self.symbols:
                assert not s.book(sym).is_crossed
                snaps = [e for e in s.events
                         if isinstance(e, BookUpdate) and e.symbol == sym and e.snapshot]
                assert snaps, f"no snapshot event for {sym}"
                assert all(e.venue == s.venue for e in snaps)
            n0 = len(s.events)
            await s.wait_for(lambda: any(isinstance(e, BookUpdate) and not e.snapshot
                                         for e in s.events[n0:]), 5.0, "delta events")

        self.run(scenario)

    def test_events_rebuild_the_book(self) -> None:
        """Applying the emitted events to a fresh book gives the connector's book."""

        async def scenario(s: ConformanceSession) -> None:
            await asyncio.sleep(0.2)
            s.emulator.pause()
            await s.wait_converged(2.0)
            for sym in self.symbols:
                rebuilt = OrderBook(s.venue, sym)
                for e in s.events:
                    if isinstance(e, BookUpdate) and e.symbol == sym:
                        if e.snapshot:
                            rebuilt.apply_snapshot(e.bids, e.asks, e.ts)
                        else:
                            rebuilt.apply_delta(e.bids, e.asks, e.ts)
                assert books_equal(rebuilt, s.book(sym))
            s.emulator.resume()

        self.run(scenario)

    def test_trades_arrive(self) -> None:
        """Public trades come through as TradeTick events with unified symbols."""

        async def scenario(s: ConformanceSession) -> None:
            def have_all() -> bool:
                got = {e.symbol for e in s.events if isinstance(e, TradeTick)}
                return set(self.symbols) <= got

            await s.wait_for(have_all, 5.0, "trades of every symbol")
            for e in s.events:
                if isinstance(e, TradeTick):
                    assert e.venue == s.venue and e.price > 0 and e.size > 0
                    assert e.side in (Side.BUY, Side.SELL)

        self.run(scenario)

    def test_recovers_after_dropped_connection(self) -> None:
        """A cut connection: reconnect, books dropped and rebuilt, equal again in time."""

        async def scenario(s: ConformanceSession) -> None:
            r0, y0 = s.stat("reconnects"), s.stat("resyncs")
            # Frozen market: after the reconnect nothing can rebuild the books, so what they
            # hold then is what survived the drop: it must be nothing.
            s.emulator.pause()
            assert s.emulator.drop_connections() >= 1
            await s.wait_for(lambda: s.stat("reconnects") > r0, self.recovery_timeout,
                             "reconnect")
            await asyncio.sleep(0.05)
            for sym in self.symbols:
                book = s.book(sym)
                assert len(book.bids) == 0 and len(book.asks) == 0, f"ghost levels in {sym}"
                assert s.ctx.market.health(s.venue, sym) != BookHealth.LIVE
            s.emulator.resume()
            await s.wait_converged(self.recovery_timeout)
            assert s.stat("resyncs") > y0
            await s.check_steady()

        self.run(scenario)

    def test_recovers_after_sequence_gap(self) -> None:
        """A lost update: gap detected (:attr:`gap_counter` grows), only that symbol resynced,
        equal again in time."""

        async def scenario(s: ConformanceSession) -> None:
            sym, others = self.symbols[0], self.symbols[1:]
            g0, y0 = s.stat(self.gap_counter), s.stat(f"resyncs:{sym}")
            other0 = {o: s.stat(f"resyncs:{o}") for o in others}
            r0 = s.stat("reconnects")
            s.emulator.inject_gap(sym)
            await s.wait_for(lambda: s.stat(f"resyncs:{sym}") > y0, self.recovery_timeout,
                             "resync after a gap")
            await s.wait_converged(self.recovery_timeout)
            assert s.stat(self.gap_counter) > g0, f"{self.gap_counter} did not grow"
            assert s.stat("reconnects") == r0, "a gap must not reconnect"
            for o in others:
                assert s.stat(f"resyncs:{o}") == other0[o], f"{o} resynced with {sym}"
                assert s.ctx.market.health(s.venue, o) == BookHealth.LIVE
            await s.check_steady()

        self.run(scenario)

    def test_recovers_after_bad_checksum(self) -> None:
        """A wrong checksum: counted, the symbol resynced, equal again in time."""
        if not self.make_emulator().supports_checksum:
            import pytest

            pytest.skip("the venue has no checksum")

        async def scenario(s: ConformanceSession) -> None:
            sym = self.symbols[0]
            c0, y0 = s.stat("checksum_failures"), s.stat(f"resyncs:{sym}")
            s.emulator.inject_bad_checksum(sym)
            await s.wait_for(lambda: s.stat("checksum_failures") > c0, self.recovery_timeout,
                             "checksum failure detected")
            await s.wait_converged(self.recovery_timeout)
            assert s.stat(f"resyncs:{sym}") > y0
            await s.check_steady()

        self.run(scenario)

    def test_skips_garbage_frame(self) -> None:
        """A frame that is not a venue message is counted and skipped; nothing else happens."""

        async def scenario(s: ConformanceSession) -> None:
            g0, r0, y0 = s.stat("garbage_frames"), s.stat("reconnects"), s.stat("resyncs")
            assert await s.emulator.send_garbage() >= 1
            assert await s.emulator.send_garbage(b"\xff\xfe binary junk") >= 1
            assert await s.emulator.send_garbage('{"unexpected": ["shape"]}') >= 1
            await s.wait_for(lambda: s.stat("garbage_frames") >= g0 + 2, self.recovery_timeout,
                             "garbage frames counted")
            await s.wait_converged(self.recovery_timeout)
            assert s.stat("reconnects") == r0 and s.stat("resyncs") == y0
            await s.check_steady()

        self.run(scenario)

    def test_recovers_after_stall(self) -> None:
        """A frozen feed (updates lost while the socket stays open) ends in a resync."""

        async def scenario(s: ConformanceSession) -> None:
            y0 = s.stat("resyncs")
            s.emulator.stall(self.stall_seconds)
            await asyncio.sleep(self.stall_seconds)
            await s.wait_for(lambda: s.stat("resyncs") > y0, self.recovery_timeout,
                             "resync after a stall")
            await s.wait_converged(self.recovery_timeout)
            await s.check_steady()

        self.run(scenario)

    def test_recovers_after_slow_consumer_kick(self) -> None:
        """A burst of updates then a kick for being slow: reconnect and converge again."""

        async def scenario(s: ConformanceSession) -> None:
            r0 = s.stat("reconnects")
            await s.emulator.slow_consumer(burst=300)
            await s.wait_for(lambda: s.stat("reconnects") > r0, self.recovery_timeout,
                             "reconnect after a kick")
            await s.wait_converged(self.recovery_timeout)
            await s.check_steady()

        self.run(scenario)

    def test_close_disconnects(self) -> None:
        """close() ends every connection to the venue."""

        async def scenario(s: ConformanceSession) -> None:
            await s.connector.close()
            await s.wait_for(lambda: not s.emulator.clients, 2.0, "connections closed")

        self.run(scenario)


class FullBookConformance(ConnectorConformance):
    """The suite adapted to venues whose every book message is a full top-N book (Upbit,
    Bithumb). Such venues send no sequence ids: a lost message cannot be detected and needs no
    repair (the next message is the whole book again), so the sequence-gap test checks that the
    book converges with no resync and no reconnect; an explicit one-symbol resync (the
    connector's ``resync(symbol)``) is tested instead."""

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
