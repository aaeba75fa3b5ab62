"""OKX: replay of the real 2022 capture (books checksums, trades) and negative cases."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from arbot.connectors.booksync import Verdict
from arbot.connectors.checksum import checksum_string, crc32_signed
from arbot.connectors.records import BookKind, BookRecord
from arbot.events import BookUpdate, TradeTick
from arbot.sources.replay import iter_capture
from arbot.testing import shared_data
from arbot_okx import OkxReplayDecoder
from arbot_okx.messages import decode, parse
from arbot_okx.sync import OkxSequenceRule

CAPTURE = "ws/okx/cf_okx_books_trades_tickers_2022-05-13.ndjson"


def _messages() -> list[tuple[float, Any]]:
    path: Path = shared_data(CAPTURE)
    return [(ts, p) for ts, kind, p, _ in iter_capture(path) if kind == "in"]


def _is_book(msg: Any) -> bool:
    return isinstance(msg, dict) and msg.get("arg", {}).get("channel") == "books" and "data" in msg


def test_okx_capture_all_checksums_verify() -> None:
    dec = OkxReplayDecoder()
    events = []
    for ts, msg in _messages():
        for ev in dec.feed(msg, ts):
            events.append(ev)
            if isinstance(ev, BookUpdate):
                assert not dec.books[ev.symbol].is_crossed, ev.symbol
    c = dec.counters
    assert c["book_snapshots"] + c["book_updates"] == 290
    assert c["checksum_ok"] == 290
    assert c["checksum_failures"] == 0
    assert c["gaps"] == 0 and c["stale"] == 0 and c["dropped_unsynced"] == 0
    assert c["crossed"] == 0
    assert c["trades"] == 74
    assert set(dec.books) == {"BTC/USDT", "BTC/USD:BTC-220527", "UNI/USD:UNI"}
    assert all(dec.is_synced(s) for s in dec.books)
    trades = [e for e in events if isinstance(e, TradeTick)]
    assert len(trades) == 74 and all(t.price > 0 and t.size > 0 for t in trades)
    book = dec.books["BTC/USDT"]
    assert len(book.bids) == 400 and len(book.asks) == 400
    assert 20000 < book.mid < 40000


def test_okx_tampered_price_fails_checksum() -> None:
    dec = OkxReplayDecoder()
    tampered = False
    for ts, msg in _messages():
        if not tampered and _is_book(msg) and msg["action"] == "update" and msg["data"][0]["bids"]:
            msg = copy.deepcopy(msg)
            level = msg["data"][0]["bids"][0]
            level[1] = level[1] + "1"  # e.g. size "0.05452" -> "0.054521"
            tampered = True
        dec.feed(msg, ts)
    assert tampered
    assert dec.counters["checksum_failures"] >= 1
    assert dec.counters["checksum_ok"] < 290


def test_okx_dropped_update_is_detected_and_book_waits_for_snapshot() -> None:
    dec = OkxReplayDecoder()
    dropped = None
    after_drop: list[Any] = []
    for ts, msg in _messages():
        if dropped is None and _is_book(msg) and msg["action"] == "update" \
                and msg["arg"]["instId"] == "BTC-USDT":
            dropped = msg
            continue
        evs = dec.feed(msg, ts)
        if dropped is not None:
            after_drop.extend(e for e in evs if isinstance(e, BookUpdate) and e.symbol == "BTC/USDT")
    assert dropped is not None
    assert dec.counters["checksum_failures"] == 1  # detected at the next BTC-USDT update
    assert not dec.is_synced("BTC/USDT")
    assert after_drop == []  # nothing emitted from a book known to be wrong
    assert dec.counters["dropped_unsynced"] > 0


def test_okx_seq_rules_follow_the_documented_chain() -> None:
    # OKX docs: (-1,10) snapshot, then (10,15), (15,15) heartbeat, (15,3) maintenance reset, (3,5)
    rule = OkxSequenceRule()
    last = 10
    for prev, seq in [(10, 15), (15, 15), (15, 3), (3, 5)]:
        assert rule.next(last, seq, seq, prev) is Verdict.APPLY, (prev, seq)
        last = seq
    assert rule.next(5, 8, 8, 6) is Verdict.GAP  # message (5,6) was lost
    assert rule.next(5, 5, 5, 3) is Verdict.STALE  # replayed old message
    assert rule.first(10, 12, 12, 9) is Verdict.GAP  # first update does not follow the snapshot
    assert rule.next(7, 0, 0, None) is Verdict.APPLY  # pre-2023 message without ids


def test_okx_seq_gap_on_a_modern_stream() -> None:
    dec = OkxReplayDecoder()

    def push(action: str, prev: int, seq: int, bids: list[list[str]]) -> dict[str, Any]:
        return {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": action,
                "data": [{"asks": [["101", "1", "0", "1"]], "bids": bids, "ts": "1751273822895",
                          "checksum": 0, "prevSeqId": prev, "seqId": seq}]}

    assert dec.feed(push("snapshot", -1, 10, [["100", "1", "0", "1"]]), 1.0)
    assert dec.feed(push("update", 10, 12, [["99", "2", "0", "1"]]), 2.0)
    assert dec.feed(push("update", 14, 15, [["98", "2", "0", "1"]]), 3.0) == []  # 12 -> 14 lost
    assert dec.counters["gaps"] == 1 and not dec.is_synced("BTC/USDT")
    assert dec.feed(push("snapshot", -1, 20, [["100", "1", "0", "1"]]), 4.0)
    assert dec.counters["resyncs"] == 1 and dec.is_synced("BTC/USDT")
    assert dec.counters["checksum_ok"] == 0  # checksum 0 with seqId: deprecated, not checked


def test_okx_checksum_reference_vectors() -> None:
    s = checksum_string([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")])
    assert s == "3366.1:7:3366.8:9:3366:6:3368:8"
    assert crc32_signed(s) == -1881014294
    assert crc32_signed("3366.1:7:3366.8:9:3368:8:3372:8") == 831078360
    # shorter side: missing entries are skipped
    assert checksum_string([("1", "2")], [("3", "4"), ("5", "6")]) == "1:2:3:4:5:6"


def test_okx_bytes_and_dict_paths_agree() -> None:
    n = 0
    for _, msg in _messages():
        a = parse(msg)
        b = decode(json.dumps(msg).encode())
        assert a == b
        if a:
            n += len(a)
    assert n > 290


@pytest.mark.parametrize("field", ["seqId", "prevSeqId"])
def test_okx_book_record_keeps_raw_strings(field: str) -> None:
    msg = {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": "snapshot",
           "data": [{"asks": [["67410.10", "0.5000", "0", "7"]], "bids": [], "ts": "1751273822895",
                     "checksum": 0, "prevSeqId": -1, "seqId": 123456}]}
    (rec,) = parse(msg) or []
    assert isinstance(rec, BookRecord) and rec.kind is BookKind.SNAPSHOT
    assert rec.raw_asks == [("67410.10", "0.5000")] and rec.asks == [(67410.1, 0.5)]
    assert (rec.last if field == "seqId" else rec.prev) == (123456 if field == "seqId" else -1)
    assert rec.ts == pytest.approx(1751273822.895)


def test_okx_snapshot_with_a_wrong_checksum_is_rejected() -> None:
    """A ``books`` snapshot whose levels do not match its checksum never becomes the book:
    no event, the failure counted at the snapshot itself, the instrument resyncs."""
    dec = OkxReplayDecoder()
    tampered = None
    for ts, msg in _messages():
        if tampered is None and _is_book(msg) and msg["action"] == "snapshot" \
                and msg["arg"]["instId"] == "BTC-USDT":
            msg = copy.deepcopy(msg)
            level = msg["data"][0]["asks"][0]
            level[1] = level[1] + "1"
            tampered = msg
            events = dec.feed(msg, ts)
            assert events == []
            assert dec.counters["checksum_failures"] == 1
            assert dec.counters["resyncs"] == 1
            continue
        dec.feed(msg, ts)
    assert tampered is not None
    assert not dec.is_synced("BTC/USDT")
    assert dec.is_synced("UNI/USD:UNI")  # the other books are not touched
