"""Bybit v5: the real orderbook.500 dump (u continuity), trade samples, negative cases."""

from __future__ import annotations

import copy
import json
from typing import Any

from arbot.connectors.booksync import Verdict
from arbot.connectors.records import BookRecord, TradeMsg
from arbot.events import BookUpdate, TradeTick
from arbot.testing import shared_data
from arbot_bybit import BybitReplayDecoder
from arbot_bybit.markets import parse_instruments
from arbot_bybit.messages import decode, parse
from arbot_bybit.symbols import BybitSymbols, guess_unified
from arbot_bybit.sync import BybitSequenceRule, is_strict

DUMP = "ws/bybit/bybit_v5_linear_orderbook500_xrpusdt_2024-12-01T0000.ndjson"


def _msgs() -> list[dict[str, Any]]:
    with shared_data(DUMP).open() as fh:
        return [json.loads(line) for line in fh]


def _run(msgs: list[dict[str, Any]]) -> BybitReplayDecoder:
    dec = BybitReplayDecoder(category="linear")  # the dump is the linear orderbook.500
    for m in msgs:
        for ev in dec.feed(m, m["ts"] / 1000.0):
            assert isinstance(ev, BookUpdate)
            assert not dec.books[ev.symbol].is_crossed
    return dec


def test_bybit_dump_replays_without_gaps() -> None:
    msgs = _msgs()
    dec = _run(msgs)
    c = dec.counters
    assert c["book_snapshots"] == 1 and c["book_updates"] == 49
    assert c["gaps"] == 0 and c["stale"] == 0 and c["crossed"] == 0
    book = dec.books["XRP/USDT:USDT"]
    assert dec.is_synced("XRP/USDT:USDT")
    assert len(book.bids) == 500 and len(book.asks) == 500
    assert 1.9 < book.mid < 2.0
    last = msgs[-1]["data"]
    assert book.bids.quantity_at(float(last["b"][0][0])) == float(last["b"][0][1]) or \
        float(last["b"][0][1]) == 0.0


def test_bybit_dropped_delta_is_a_gap_and_snapshot_resyncs() -> None:
    msgs = _msgs()
    dec = _run(msgs[:10] + msgs[11:])
    assert dec.counters["gaps"] == 1 and not dec.is_synced("XRP/USDT:USDT")
    assert dec.counters["dropped_unsynced"] == len(msgs) - 12
    # A snapshot older than the update that revealed the gap is refused (core BookSync asks
    # for another one); the reply to a resubscribe is newer and resynchronises the book.
    dec.feed(msgs[0], 0.0)
    assert not dec.is_synced("XRP/USDT:USDT") and dec.sync.stats.snapshot_retries == 1
    newer = copy.deepcopy(msgs[0])
    newer["data"]["u"] = msgs[-1]["data"]["u"] + 5
    dec.feed(newer, 0.0)
    assert dec.is_synced("XRP/USDT:USDT") and dec.counters["resyncs"] == 1


def test_bybit_u_equal_one_resets_the_book() -> None:
    msgs = _msgs()
    dec = _run(msgs[:5])
    restart = copy.deepcopy(msgs[5])
    restart["data"]["u"] = 1
    restart["data"]["b"] = [["1.5", "10"]]
    restart["data"]["a"] = [["1.6", "10"]]
    (ev,) = dec.feed(restart, 1.0)
    assert isinstance(ev, BookUpdate) and ev.snapshot
    assert dec.books["XRP/USDT:USDT"].top() == (1.5, 10.0, 1.6, 10.0)
    assert dec.counters["restarts"] == 1


def test_bybit_rules() -> None:
    strict, lenient = BybitSequenceRule.for_depth("500"), BybitSequenceRule.for_depth(50)
    assert strict.strict and not lenient.strict
    assert strict.first(5, 6, 6, None) is Verdict.APPLY  # first delta after snapshot u=5
    assert strict.next(5, 6, 6, None) is Verdict.APPLY
    assert strict.next(5, 8, 8, None) is Verdict.GAP
    assert lenient.next(5, 8, 8, None) is Verdict.APPLY
    assert strict.next(5, 5, 5, None) is Verdict.STALE
    assert lenient.next(5, 4, 4, None) is Verdict.STALE
    assert is_strict("500") and is_strict("full") and is_strict(1000) and not is_strict("50")


def test_bybit_format_samples_parse() -> None:
    trades = books = 0
    for name in ("tardis_bybit_v5_spot_samples.ndjson", "tardis_bybit_v5_linear_inverse_samples.ndjson"):
        with shared_data(f"ws/format_samples/{name}").open() as fh:
            for line in fh:
                recs = parse(json.loads(line))
                assert recs == decode(line.encode())
                for r in recs or []:
                    if isinstance(r, TradeMsg):
                        trades += 1
                        assert r.price > 0 and r.size > 0 and r.trade_id
                    else:
                        assert isinstance(r, BookRecord)
                        books += 1
    assert trades >= 3 and books >= 4
    dec = BybitReplayDecoder()
    with shared_data("ws/format_samples/tardis_bybit_v5_spot_samples.ndjson").open() as fh:
        first = json.loads(fh.readline())
    evs = dec.feed(first, 0.0)
    assert evs and all(isinstance(e, TradeTick) and e.symbol == "BTC/USDT" for e in evs)


def test_bybit_dump_bytes_and_dict_paths_agree() -> None:
    with shared_data(DUMP).open() as fh:
        for line in fh:
            assert parse(json.loads(line)) == decode(line.encode())


def test_bybit_symbols_and_markets() -> None:
    # No Bybit REST capture exists in shared/data; this body follows the v5 field names of
    # shared/exchanges/bybit.md (instruments-info), values illustrative.
    body = {"retCode": 0, "result": {"category": "spot", "list": [
        {"symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "status": "Trading",
         "lotSizeFilter": {"basePrecision": "0.000001", "minOrderQty": "0.000048",
                           "minOrderAmt": "1"},
         "priceFilter": {"tickSize": "0.01"}}]}}
    syms = BybitSymbols.from_instruments(body)
    assert syms.to_unified("BTCUSDT") == "BTC/USDT" and syms.to_venue("BTC/USDT") == "BTCUSDT"
    (m,) = parse_instruments(body)
    assert (m.tick_size, m.step_size, m.min_qty, m.min_notional) == (0.01, 1e-6, 4.8e-5, 1.0)
    assert m.taker_fee == 0.001 and m.active
    assert guess_unified("XRPUSDT") == "XRP/USDT" and guess_unified("ETHBTC") == "ETH/BTC"
