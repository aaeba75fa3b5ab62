"""The three book bootstraps (:mod:`arbot.connectors.bootstrap`) and the record replay
decoder, on hand-made records: sequence rules, snapshot acquisition, checksums, recency."""

from __future__ import annotations

import asyncio

from arbot.components import MarketEvent
from arbot.connectors.base import stop_tasks
from arbot.connectors.booksync import ContiguousRule, RangeRule
from arbot.connectors.bootstrap import FullBook, RestSnapshot, StreamSnapshot, book_diff
from arbot.connectors.checksum import Crc32Checksum, checksum_string, crc32_signed, nonzero_checksum
from arbot.connectors.records import BookKind, BookRecord, Record, TradeMsg
from arbot.connectors.replay import RecordReplayDecoder
from arbot.connectors.rest import RestClient, RestError
from arbot.connectors.symbols import SymbolMap
from arbot.events import BookUpdate, Side, TradeTick
from arbot.market import MarketState


class _Link:
    """The feed side of a bootstrap, recorded (a real object with the FeedLink members; the
    REST client is never called: the snapshot requests below are plain coroutines)."""

    def __init__(self) -> None:
        self.rest = RestClient("http://127.0.0.1:9")
        self.closed = False
        self.resubscribed: list[str] = []
        self.resent = 0

    def resubscribe_book(self, symbol: str) -> None:
        self.resubscribed.append(symbol)

    def resend_subscriptions(self) -> None:
        self.resent += 1


def _delta(first: int, last: int, bids: list[tuple[float, float]], sym: str = "A-B") -> BookRecord:
    return BookRecord(sym, BookKind.DELTA, bids, [], first, last)


def _snap(seq: int, bids: list[tuple[float, float]], sym: str = "A-B") -> BookRecord:
    return BookRecord(sym, BookKind.SNAPSHOT, bids, [(9.0, 1.0)], seq, seq)


def test_rest_snapshot_fetches_bridges_and_retries() -> None:
    async def main() -> None:
        calls: list[str] = []

        async def request(rest: RestClient, venue_symbol: str) -> BookRecord:
            calls.append(venue_symbol)
            if len(calls) == 1:
                raise RestError("boom")
            return _snap(10, [(1.0, 1.0)])

        market = MarketState()
        events: list[MarketEvent] = []
        boot = RestSnapshot("v", market, events.append, RangeRule(), request, retry_delay=0.0)
        link = _Link()
        boot.attach(link)
        boot.records([_delta(9, 11, [(2.0, 1.0)])], 1.0)  # buffered; asks for a snapshot
        for _ in range(50):
            await asyncio.sleep(0)
        assert calls == ["A-B", "A-B"] and boot.fetch_failures == 1
        assert boot.sync.is_live("A/B")
        assert list(market.book("v", "A/B").bids) == [(2.0, 1.0), (1.0, 1.0)]
        boot.records([_delta(13, 13, [(3.0, 1.0)])], 2.0)  # 12 is missing: a gap
        assert boot.sync.stats.gaps == 1 and not boot.sync.is_live("A/B")
        await boot.close()
        await link.rest.close()

    asyncio.run(main())


def test_rest_snapshot_skips_entries_the_snapshot_holds() -> None:
    boot = RestSnapshot("v", MarketState(), None, RangeRule())
    rec = BookRecord("A-B", BookKind.DELTA, [(1.0, 5.0), (2.0, 6.0)], [], 9, 12,
                     entry_seqs=([10, 12], []))
    boot.records([rec], 1.0)
    boot.records([_snap(11, [(1.0, 1.0)])], 2.0)  # holds entry 10, not entry 12
    book = boot.sync.book("A/B")
    assert dict(book.bids) == {1.0: 1.0, 2.0: 6.0} and book.sequence == 12


def test_stream_snapshot_drops_unsynced_and_resubscribes_on_gap() -> None:
    link = _Link()
    boot = StreamSnapshot("v", MarketState(), None, ContiguousRule())
    boot.attach(link)
    boot.records([_delta(5, 5, [(1.0, 1.0)])], 1.0)
    assert boot.dropped_unsynced == 1 and link.resubscribed == []
    boot.records([_snap(5, [(1.0, 1.0)]), _delta(6, 6, [(2.0, 1.0)])], 2.0)
    assert boot.sync.is_live("A/B") and boot.counters()["book_updates"] == 2
    boot.records([_delta(8, 8, [(3.0, 1.0)])], 3.0)
    assert link.resubscribed == ["A/B"] and not boot.sync.is_live("A/B")
    boot.records([_snap(20, [(1.0, 1.0)])], 4.0)
    boot.records([_snap(21, [(1.0, 2.0)])], 5.0)  # replaces a live book unasked
    assert boot.counters()["restarts"] == 1


def test_stream_snapshot_checksum_on_snapshots_and_updates() -> None:
    raw = [("1.0", "1"), ("2.0", "1")]
    good = crc32_signed(checksum_string(raw[::-1], [("9.0", "1")]))

    def snap(checksum: int) -> BookRecord:
        return BookRecord("A-B", BookKind.SNAPSHOT, [(2.0, 1.0), (1.0, 1.0)], [(9.0, 1.0)], 1, 1,
                          None, None, checksum, raw[::-1], [("9.0", "1")])

    link = _Link()
    boot = StreamSnapshot("v", MarketState(), None, ContiguousRule(),
                          checksum=Crc32Checksum(nonzero_checksum))
    boot.attach(link)
    boot.records([snap(good + 1)], 1.0)
    assert not boot.sync.is_live("A/B") and boot.sync.stats.checksum_failures == 1
    assert link.resubscribed == ["A/B"]
    boot.records([snap(good)], 2.0)
    assert boot.sync.is_live("A/B") and boot.counters()["checksum_ok"] == 1


def test_full_book_diffs_stale_and_resend() -> None:
    link = _Link()
    events: list[MarketEvent] = []
    market = MarketState()
    boot = FullBook("v", market, events.append)
    boot.attach(link)

    def full(bids: list[tuple[float, float]], ts: float) -> Record:
        return BookRecord("KRW-BTC", BookKind.FULL, bids, [(101.0, 1.0)], ts=ts)

    boot.symbols = SymbolMap(guess=lambda c: "BTC/KRW")
    boot.records([full([(100.0, 1.0)], 10.0), full([(99.0, 1.0)], 11.0),
                  full([(98.0, 1.0)], 9.0), full([(99.0, 1.0)], 12.0)], 1.0)
    boot.records([TradeMsg("KRW-BTC", 100.5, 0.1, Side.SELL, 12.0, "1")], 2.0)
    books = [e for e in events if isinstance(e, BookUpdate)]
    assert [b.snapshot for b in books] == [True, False]
    assert books[1].bids == [(100.0, 0.0), (99.0, 1.0)]
    assert boot.counters()["stale_books"] == 1 and boot.counters()["unchanged"] == 1
    assert isinstance(events[-1], TradeTick) and events[-1].symbol == "BTC/KRW"
    boot.sync.resync("BTC/KRW")
    assert link.resent == 1
    boot.reset()
    assert not boot.sync.is_live("BTC/KRW") and len(market.book("v", "BTC/KRW").bids) == 0


def test_book_diff() -> None:
    assert sorted(book_diff([(1.0, 1.0), (2.0, 1.0)], [(2.0, 3.0), (3.0, 1.0)])) == [
        (1.0, 0.0), (2.0, 3.0), (3.0, 1.0)]
    assert book_diff([(1.0, 1.0)], [(1.0, 1.0)]) == []


def test_record_replay_decoder_counts_reads_rest_and_drains() -> None:
    def parse(msg: object) -> list[Record] | None:
        if isinstance(msg, dict) and "book" in msg:
            return [BookRecord(str(msg["book"]), BookKind.FULL, [(1.0, 2.0)], [(1.5, 1.0)])]
        return None

    def read(url: str, body: object) -> BookRecord | SymbolMap | None:
        return SymbolMap([("AB", "A/B")]) if url.endswith("/markets") else None

    dec = RecordReplayDecoder(parse, lambda m, e: FullBook("v", m, e), read)
    assert dec.snapshot("https://x/markets", [], 0.0) == [] and dec.symbols.to_unified("AB") == "A/B"
    assert dec.feed("pong", 1.0) == []
    (ev,) = dec.feed({"book": "AB"}, 2.0)
    assert isinstance(ev, BookUpdate) and ev.symbol == "A/B" and dec.drain() == []
    assert dec.is_synced("A/B") and dec.market.book("v", "A/B") is dec.books["A/B"]
    c = dec.counters
    assert (c["messages"], c["ignored"], c["book_snapshots"]) == (2, 1, 1)
    assert dec.snapshot("https://x/other", {}, 3.0) == []


def test_stop_tasks_skips_none_and_swallows_errors() -> None:
    async def main() -> None:
        async def fail() -> None:
            raise ValueError("x")

        async def sleep() -> None:
            await asyncio.sleep(10)

        a = asyncio.get_running_loop().create_task(fail())
        b = asyncio.get_running_loop().create_task(sleep())
        await asyncio.sleep(0)
        await stop_tasks([a, None, b])
        assert a.done() and b.cancelled()

    asyncio.run(main())

