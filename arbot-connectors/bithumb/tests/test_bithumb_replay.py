"""Bithumb: legacy orderbookdepth deltas on the real 2021 capture, full books, markets."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from arbot.events import BookUpdate, TradeTick
from arbot.sources.replay import iter_capture
from arbot.testing import shared_data
from arbot_bithumb import BithumbReplayDecoder
from arbot_bithumb.markets import parse_ticker_all
from arbot_bithumb.messages import decode, parse
from arbot_bithumb.symbols import BithumbSymbols, to_unified, to_venue

WS = "ws/bithumb/cf_bithumb_orderbookdepth_transaction_2021-06-01.ndjson"


def _msgs() -> list[tuple[float, Any]]:
    return [(ts, p) for ts, k, p, _ in iter_capture(shared_data(WS)) if k == "in"]


def test_bithumb_legacy_deltas_apply_as_partial_books() -> None:
    dec = BithumbReplayDecoder()
    levels = 0
    for ts, msg in _msgs():
        for ev in dec.feed(msg, ts):
            if isinstance(ev, BookUpdate):
                assert not ev.snapshot
                assert not dec.books[ev.symbol].is_crossed
                levels += len(ev.bids) + len(ev.asks)
            else:
                assert isinstance(ev, TradeTick) and ev.price > 0
                assert 1622591000 < (ev.exchange_ts or 0) < 1622592000  # KST converted to UTC
    c = dec.counters
    assert c["book_deltas"] == c["partial_deltas"] > 80 and c["stale"] == 0
    assert c["trades"] == 7 and c["ignored"] == 3  # the three status messages
    assert levels > 200
    assert "ETH/BTC" in dec.books and "BNB/KRW" in dec.books
    assert not any(dec.is_synced(s) for s in dec.books)  # no snapshot in this capture


def test_bithumb_rest_snapshot_completes_the_book_and_deltas_follow() -> None:
    dec = BithumbReplayDecoder()
    body = {"status": "0000", "data": {"timestamp": "1622591012000", "payment_currency": "KRW",
                                        "order_currency": "CHZ",
                                        "bids": [{"price": "320.0", "quantity": "100"}],
                                        "asks": [{"price": "323.0", "quantity": "50"}]}}
    (ev,) = dec.snapshot("https://api.bithumb.com/public/orderbook/CHZ_KRW", body, 1.0)
    assert isinstance(ev, BookUpdate) and ev.snapshot and dec.is_synced("CHZ/KRW")
    for ts, msg in _msgs():
        dec.feed(msg, ts)
    book = dec.books["CHZ/KRW"]
    assert not book.is_crossed and book.bids.quantity_at(320.0) == 100.0
    assert dec.counters["partial_deltas"] < dec.counters["book_deltas"]


def test_bithumb_older_delta_is_stale() -> None:
    msgs = [m for _, m in _msgs() if m.get("type") == "orderbookdepth"]
    dec = BithumbReplayDecoder()
    dec.feed(msgs[0], 1.0)
    old = copy.deepcopy(msgs[0])
    old["content"]["datetime"] = str(int(old["content"]["datetime"]) - 10_000_000)
    assert dec.feed(old, 2.0) == []
    assert dec.counters["stale"] == 1


def test_bithumb_current_format_full_book() -> None:
    dec = BithumbReplayDecoder()
    msg = {"type": "orderbook", "code": "KRW-BTC", "timestamp": "1751273822895123",
           "stream_type": "SNAPSHOT", "orderbook_units": [
               {"ask_price": 137002000, "bid_price": 137001000, "ask_size": 0.0, "bid_size": 0.0024},
               {"ask_price": 137010000, "bid_price": 136990000, "ask_size": 0.15, "bid_size": 0.045}]}
    (ev,) = dec.feed(msg, 1.0)
    assert isinstance(ev, BookUpdate) and ev.snapshot and ev.symbol == "BTC/KRW"
    assert ev.asks == [(137010000.0, 0.15)]  # zero-size unit skipped
    assert ev.exchange_ts == pytest.approx(1751273822.895123)


def test_bithumb_bytes_and_dict_paths_agree() -> None:
    for _, m in _msgs():
        assert parse(m) == decode(json.dumps(m).encode())


def test_bithumb_symbols_and_markets() -> None:
    krw = json.loads(shared_data("rest/bithumb/bithumb_ticker_ALL_KRW_2021-06-01.json").read_text())
    btc = json.loads(shared_data("rest/bithumb/bithumb_ticker_ALL_BTC_2021-06-01.json").read_text())
    syms = BithumbSymbols()
    syms.add_ticker_all(krw, "KRW")
    syms.add_ticker_all(btc, "BTC")
    assert "BTC_KRW" in syms and "ETH_BTC" in syms and "date_KRW" not in syms
    assert syms.to_unified("BTC_KRW") == "BTC/KRW" and syms.to_venue("ETH/BTC") == "ETH_BTC"
    assert to_unified("KRW-BTC") == "BTC/KRW" and to_venue("BTC/KRW", legacy=False) == "KRW-BTC"
    markets = parse_ticker_all(krw, "KRW") + parse_ticker_all(btc, "BTC")
    assert len(markets) == len(syms) > 200
    assert all(m.taker_fee == 0.0025 for m in markets)
