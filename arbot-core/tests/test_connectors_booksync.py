"""BookSync: buffering, bridging, sequence rules, resync isolation, reconnect drop, health."""

from __future__ import annotations

import pytest
from arbot.components import MarketEvent
from arbot.connectors.booksync import (
    BinanceFuturesRule,
    BinanceSpotRule,
    BookSync,
    ContiguousRule,
    NoSequenceRule,
    PrevSeqRule,
    RangeRule,
    Verdict,
)
from arbot.events import BookUpdate
from arbot.market import BookHealth, MarketState
from hypothesis import given, settings
from hypothesis import strategies as st


def make(rule: object = None, checksum: object = None) -> tuple[BookSync, list[MarketEvent], list[str]]:
    events: list[MarketEvent] = []
    asked: list[str] = []
    sync = BookSync("v", MarketState(), rule or BinanceSpotRule(), emit=events.append,  # type: ignore[arg-type]
                    request_snapshot=asked.append, checksum=checksum)  # type: ignore[arg-type]
    return sync, events, asked


def test_spot_buffers_until_snapshot_bridges() -> None:
    sync, events, asked = make()
    assert not sync.on_delta("A/B", 95, 99, [(10.0, 1.0)], [], 1.0)
    assert asked == ["A/B"]  # first delta asks for a snapshot, once
    assert not sync.on_delta("A/B", 100, 104, [(10.0, 2.0)], [(11.0, 1.0)], 1.1)
    assert not sync.on_delta("A/B", 105, 106, [(9.0, 3.0)], [], 1.2)
    assert asked == ["A/B"]
    assert sync.health("A/B") == BookHealth.SYNCING
    assert sync.on_snapshot("A/B", 102, [(10.0, 5.0), (8.0, 1.0)], [(12.0, 1.0)], 1.3)
    book = sync.book("A/B")
    # 95..99 stale; 100..104 bridges (100 <= 103 <= 104); 105 follows.
    assert dict(book.bids) == {10.0: 2.0, 9.0: 3.0, 8.0: 1.0}
    assert dict(book.asks) == {11.0: 1.0, 12.0: 1.0}
    assert book.sequence == 106
    assert sync.market.health("v", "A/B") == BookHealth.LIVE
    assert sync.stats.stale_deltas == 1 and sync.stats.deltas == 2
    snap = [e for e in events if isinstance(e, BookUpdate)]
    assert len(snap) == 1 and snap[0].snapshot
    assert sync.on_delta("A/B", 107, 107, [(10.0, 0.0)], [], 1.4)
    assert 10.0 not in dict(book.bids)
    assert isinstance(events[-1], BookUpdate) and not events[-1].snapshot


def test_spot_gap_resyncs_only_that_symbol_and_clears_its_book() -> None:
    sync, _, asked = make()
    for sym in ("A/B", "C/D"):
        sync.on_delta(sym, 10, 11, [(1.0, 1.0)], [], 0.0)
        assert sync.on_snapshot(sym, 10, [(1.0, 1.0), (0.5, 2.0)], [(2.0, 1.0)], 0.0)
    asked.clear()
    assert not sync.on_delta("A/B", 14, 15, [], [], 0.1)  # 12, 13 missing
    assert sync.stats.gaps == 1 and sync.stats.resyncs == 1
    assert sync.stats.resyncs_by_symbol == {"A/B": 1}
    assert asked == ["A/B"]
    assert sync.market.health("v", "A/B") == BookHealth.RESYNCING
    assert len(sync.book("A/B").bids) == 0  # no ghost of the old book
    assert sync.market.health("v", "C/D") == BookHealth.LIVE
    assert len(sync.book("C/D").bids) == 2
    # the delta that showed the gap waits in the buffer for the next snapshot
    assert sync.on_snapshot("A/B", 14, [(1.5, 1.0)], [(2.0, 1.0)], 0.2)
    assert sync.book("A/B").sequence == 15


def test_snapshot_too_old_is_fetched_again() -> None:
    sync, _, asked = make()
    sync.on_delta("A/B", 200, 210, [], [], 0.0)
    assert not sync.on_snapshot("A/B", 150, [(1.0, 1.0)], [(2.0, 1.0)], 0.0)
    assert sync.stats.snapshot_retries == 1 and asked == ["A/B", "A/B"]
    assert sync.health("A/B") == BookHealth.SYNCING
    assert sync.on_snapshot("A/B", 205, [(1.0, 1.0)], [(2.0, 1.0)], 0.0)
    assert sync.book("A/B").sequence == 210


def test_snapshot_without_bridging_delta_goes_live_then_checks_bridge() -> None:
    sync, _, _ = make()
    assert sync.on_snapshot("A/B", 50, [(1.0, 1.0)], [(2.0, 1.0)], 0.0)
    assert sync.health("A/B") == BookHealth.LIVE
    assert sync.on_delta("A/B", 45, 52, [(1.0, 3.0)], [], 0.1)  # bridges 51
    assert not sync.on_delta("A/B", 50, 52, [], [], 0.2)  # stale now
    assert sync.stats.stale_deltas == 1


def test_drop_all_clears_every_book() -> None:
    sync, _, asked = make()
    for sym in ("A/B", "C/D"):
        sync.on_snapshot(sym, 1, [(1.0, 1.0)], [(2.0, 1.0)], 0.0)
    sync.drop_all()
    for sym in ("A/B", "C/D"):
        assert len(sync.book(sym).bids) == 0 and len(sync.book(sym).asks) == 0
        assert sync.market.health("v", sym) == BookHealth.SYNCING
        assert not sync.is_live(sym)
    assert sync.stats.resyncs == 2
    sync.on_delta("A/B", 5, 6, [], [], 1.0)
    assert asked == ["A/B"]


def test_checksum_failure_resyncs() -> None:
    def check(book: object, expected: object) -> bool:
        return expected == "ok"

    sync, _, asked = make(ContiguousRule(), check)
    sync.on_snapshot("A/B", 1, [(1.0, 1.0)], [(2.0, 1.0)], 0.0)
    assert sync.on_delta("A/B", 2, 2, [(1.0, 2.0)], [], 0.0, checksum="ok")
    assert not sync.on_delta("A/B", 3, 3, [(1.0, 3.0)], [], 0.0, checksum="bad")
    assert sync.stats.checksum_failures == 1 and sync.stats.resyncs == 1
    assert asked == ["A/B"] and len(sync.book("A/B").bids) == 0


def test_full_book_venue_replaces_each_time() -> None:
    sync, events, _ = make(NoSequenceRule())
    sync.on_full_book("A/B", [(1.0, 1.0), (0.9, 1.0)], [(2.0, 1.0)], 0.0)
    sync.on_full_book("A/B", [(1.1, 1.0)], [(2.0, 2.0)], 0.1)
    assert dict(sync.book("A/B").bids) == {1.1: 1.0}
    assert sync.health("A/B") == BookHealth.LIVE
    assert all(isinstance(e, BookUpdate) and e.snapshot for e in events)


def test_stale_and_back_to_live() -> None:
    sync, _, _ = make()
    sync.on_snapshot("A/B", 1, [(1.0, 1.0)], [(2.0, 1.0)], 10.0)
    assert sync.check_stale(now=11.0, max_age=5.0) == []
    assert sync.check_stale(now=16.0, max_age=5.0) == ["A/B"]
    assert sync.market.health("v", "A/B") == BookHealth.STALE
    sync.on_delta("A/B", 2, 2, [(1.0, 2.0)], [], 16.5)
    assert sync.market.health("v", "A/B") == BookHealth.LIVE


@pytest.mark.parametrize(
    ("rule", "local", "first", "last", "prev", "expected"),
    [
        (BinanceSpotRule(), 10, 11, 12, None, Verdict.APPLY),
        (BinanceSpotRule(), 10, 12, 13, None, Verdict.GAP),
        (BinanceSpotRule(), 10, 9, 10, None, Verdict.STALE),
        (BinanceFuturesRule(), 10, 20, 25, 10, Verdict.APPLY),
        (BinanceFuturesRule(), 10, 20, 25, 11, Verdict.GAP),
        (BinanceFuturesRule(), 10, 5, 9, 4, Verdict.STALE),
        (ContiguousRule(), 7, 8, 8, None, Verdict.APPLY),
        (ContiguousRule(), 7, 9, 9, None, Verdict.GAP),
        (PrevSeqRule(), 7, 9, 9, 7, Verdict.APPLY),
        (PrevSeqRule(), 7, 9, 9, 8, Verdict.GAP),
        (PrevSeqRule(), 7, 7, 7, 7, Verdict.APPLY),  # heartbeat seqId == prevSeqId
        (PrevSeqRule(), 7, 3, 3, 12, Verdict.GAP),
        (RangeRule(), 10, 5, 15, None, Verdict.APPLY),
        (RangeRule(), 10, 12, 15, None, Verdict.GAP),
    ],
)
def test_rule_verdicts(rule: object, local: int, first: int, last: int, prev: int | None,
                       expected: Verdict) -> None:
    assert rule.next(local, first, last, prev) is expected  # type: ignore[attr-defined]


def test_futures_first_rule() -> None:
    r = BinanceFuturesRule()
    assert r.first(100, 95, 105, 94) is Verdict.APPLY  # U <= id <= u
    assert r.first(100, 101, 105, 100) is Verdict.GAP
    assert r.first(100, 90, 99, 89) is Verdict.STALE


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=5, max_size=60), st.data())
def test_any_delivery_order_with_buffering_converges(sizes: list[int], data: st.DataObject) -> None:
    """Snapshot taken at a random point while deltas stream: the synced book always equals
    the reference book built from every delta in order."""
    deltas = []
    seq = 100
    for i, n in enumerate(sizes):
        deltas.append((seq + 1, seq + n, [(float(i % 7 + 1), float(i % 3))], [(float(20 + i % 5), 1.0)]))
        seq += n
    cut = data.draw(st.integers(0, len(deltas)))
    # reference book at the snapshot point
    ref = MarketState().book("r", "A/B")
    for _, _, b, a in deltas[:cut]:
        ref.apply_delta(b, a, 0.0)
    snap_id = deltas[cut - 1][1] if cut else 100
    arrived_before = data.draw(st.integers(0, len(deltas)))
    sync, _, _ = make()
    for d in deltas[:arrived_before]:
        sync.on_delta("A/B", d[0], d[1], d[2], d[3], 0.0)
    live = sync.on_snapshot("A/B", snap_id, list(ref.bids), list(ref.asks), 0.0)
    if arrived_before and deltas[0][0] > snap_id + 1:
        assert not live
        return
    for d in deltas[arrived_before:]:
        sync.on_delta("A/B", d[0], d[1], d[2], d[3], 0.0)
    full = MarketState().book("r", "A/B")
    for _, _, b, a in deltas:
        full.apply_delta(b, a, 0.0)
    assert sync.stats.gaps == 0
    assert dict(sync.book("A/B").bids) == dict(full.bids)
    assert dict(sync.book("A/B").asks) == dict(full.asks)
