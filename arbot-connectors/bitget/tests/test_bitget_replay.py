"""Bitget: replay of the real v1 capture (443 checksums), v2 samples, negative cases."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from arbot.connectors.booksync import Verdict
from arbot.connectors.checksum import crc32_signed
from arbot.connectors.records import BookRecord, TradeMsg
from arbot.events import BookUpdate, TradeTick
from arbot.sources.replay import iter_capture
from arbot.testing import shared_data
from arbot_bitget import BitgetReplayDecoder
from arbot_bitget.messages import decode, parse
from arbot_bitget.sync import BitgetSequenceRule

CAPTURE = "ws/bitget/cf_bitget_spot_v1_books_trade_ticker_2022-04-07.ndjson.gz"
SYMBOLS = {"EOS/USDT", "GOG/USDT", "VVS/USDT", "AVAX/USDT", "CULT/USDT", "HOT/USDT", "SUN/USDT",
           "STG/USDT"}


def _messages() -> list[tuple[float, Any]]:
    path: Path = shared_data(CAPTURE)
    return [(ts, p) for ts, kind, p, _ in iter_capture(path) if kind == "in"]


def _is_update(msg: Any) -> bool:
    return (isinstance(msg, dict) and msg.get("action") == "update"
            and msg.get("arg", {}).get("channel") == "books")


def test_bitget_v1_capture_all_checksums_verify() -> None:
    dec = BitgetReplayDecoder()
    events = []
    for ts, msg in _messages():
        for ev in dec.feed(msg, ts):
            events.append(ev)
            if isinstance(ev, BookUpdate):
                assert not dec.books[ev.symbol].is_crossed, ev.symbol
    c = dec.counters
    assert c["book_snapshots"] == 8 and c["book_updates"] == 435
    assert c["checksum_ok"] == 443 and c["checksum_failures"] == 0
    assert c["gaps"] == 0 and c["stale"] == 0 and c["dropped_unsynced"] == 0 and c["crossed"] == 0
    assert set(dec.books) == SYMBOLS
    assert all(dec.is_synced(s) for s in SYMBOLS)
    trades = [e for e in events if isinstance(e, TradeTick)]
    assert trades and all(t.price > 0 and t.size > 0 for t in trades)
    assert all(t.symbol in SYMBOLS for t in trades)


def test_bitget_tampered_price_fails_checksum() -> None:
    dec = BitgetReplayDecoder()
    done = False
    for ts, msg in _messages():
        if not done and _is_update(msg) and msg["data"][0]["asks"]:
            msg = copy.deepcopy(msg)
            lvl = msg["data"][0]["asks"][0]
            lvl[0] = lvl[0] + "0"  # same number, different string: the checksum must notice
            done = True
        dec.feed(msg, ts)
    assert done
    assert dec.counters["checksum_failures"] >= 1


def test_bitget_dropped_update_is_detected() -> None:
    dec = BitgetReplayDecoder()
    dropped: str | None = None
    for ts, msg in _messages():
        if dropped is None and _is_update(msg):
            dropped = msg["arg"]["instId"]
            continue
        dec.feed(msg, ts)
    assert dropped is not None
    assert dec.counters["checksum_failures"] == 1
    assert not dec.is_synced(dec.symbols.to_unified(dropped))
    assert dec.counters["dropped_unsynced"] > 0


def test_bitget_v2_samples_parse() -> None:
    path = shared_data("ws/format_samples/tardis_bitget_v2_spot_samples.ndjson")
    books = trades = 0
    with path.open() as fh:
        for line in fh:
            msg = json.loads(line)
            recs = parse(msg)
            assert recs == decode(line.encode())
            for r in recs or []:
                if isinstance(r, BookRecord):
                    books += 1
                    assert all(p > 0 for p, _ in r.bids + r.asks)
                else:
                    assert isinstance(r, TradeMsg) and r.trade_id
                    trades += 1
    assert books >= 2 and trades >= 3


def test_bitget_seq_and_crc() -> None:
    rule = BitgetSequenceRule()
    assert rule.first(-1, 5, 5, None) is Verdict.APPLY  # after a v1 snapshot (no seq)
    assert rule.next(5, 6, 6, None) is Verdict.APPLY
    assert rule.next(5, 9, 9, None) is Verdict.APPLY  # seq may jump: no contiguity promised
    assert rule.next(6, 6, 6, None) is Verdict.STALE
    assert rule.next(6, -1, -1, None) is Verdict.APPLY  # v1 update
    assert crc32_signed("3366.1:7:3366.8:9:3366:6:3368:8") == -1881014294


def test_bitget_bytes_and_dict_paths_agree() -> None:
    for _, msg in _messages()[:200]:
        assert parse(msg) == decode(json.dumps(msg).encode())
