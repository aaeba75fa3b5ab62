"""Bithumb: legacy orderbookdepth deltas on the real 2021 capture, full books, markets."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from arbot.events import BookUpdate, TradeTick
from arbot.market import BookHealth
from arbot.sources.replay import iter_capture
from arbot.testing import shared_data
from arbot_bithumb import BithumbConnector, BithumbReplayDecoder
from arbot_bithumb.markets import parse_market_all, parse_ticker_all
from arbot_bithumb.messages import decode, parse
from arbot_bithumb.symbols import add_ticker_all, bithumb_symbols, to_unified, to_venue

pytestmark = pytest.mark.shared_data

WS = "ws/bithumb/cf_bithumb_orderbookdepth_transaction_2021-06-01.ndjson"


def _msgs() -> list[tuple[float, Any]]:
    return [(ts, p) for ts, k, p, _ in iter_capture(shared_data(WS)) if k == "in"]


def test_bithumb_legacy_deltas_wait_for_a_snapshot() -> None:
    """The legacy feed has no snapshot: its deltas are buffered, no partial book is emitted."""
    dec = BithumbConnector.replay_decoder()
    assert isinstance(dec, BithumbReplayDecoder)
    trades = 0
    for ts, msg in _msgs():
        for ev in dec.feed(msg, ts):
            assert isinstance(ev, TradeTick) and ev.price > 0
            assert 1622591000 < (ev.exchange_ts or 0) < 1622592000  # KST converted to UTC
            trades += 1
    assert trades == 7 and dec.ignored == 3  # the three status messages
    st = dec.legacy_sync.stats
    assert st.snapshots == 0 and st.deltas == 0
    for sym in ("ETH/BTC", "BNB/KRW"):
        assert dec.market.health("bithumb", sym) == BookHealth.SYNCING
        assert len(dec.market.book("bithumb", sym).bids) == 0


def _chz_snapshot(ts_ms: int) -> tuple[str, dict[str, Any]]:
    return ("https://api.bithumb.com/public/orderbook/CHZ_KRW",
            {"status": "0000", "data": {"timestamp": str(ts_ms), "payment_currency": "KRW",
                                        "order_currency": "CHZ",
                                        "bids": [{"price": "320.0", "quantity": "100"}],
                                        "asks": [{"price": "323.0", "quantity": "50"}]}})


def test_bithumb_rest_snapshot_completes_the_book_and_deltas_follow() -> None:
    msgs = _msgs()
    chz = [(ts, m) for ts, m in msgs if m.get("type") == "orderbookdepth"
           and any(x["symbol"] == "CHZ_KRW" for x in m["content"]["list"])]
    assert len(chz) >= 2
    cut = int(chz[1][1]["content"]["datetime"]) // 1000  # between the 1st and 2nd CHZ deltas
    dec = BithumbReplayDecoder()
    events = []
    for ts, msg in msgs:
        events += dec.feed(msg, ts)
    events += dec.snapshot(*_chz_snapshot(cut), 1.0)
    st = dec.legacy_sync.stats
    assert st.snapshots == 1 and st.stale_deltas >= 1 and st.deltas == len(chz) - 1
    (snap,) = [e for e in events if isinstance(e, BookUpdate)]
    assert snap.snapshot and snap.symbol == "CHZ/KRW"
    book = dec.market.book("bithumb", "CHZ/KRW")
    assert dec.market.health("bithumb", "CHZ/KRW") == BookHealth.LIVE
    assert not book.is_crossed and book.bids.quantity_at(320.0) == 100.0
    # a later delta applies at once and is emitted as a delta
    later = copy.deepcopy(chz[-1][1])
    later["content"]["datetime"] = str(int(later["content"]["datetime"]) + 1)
    later["content"]["list"] = [{"symbol": "CHZ_KRW", "orderType": "bid", "price": "320.0",
                                 "quantity": "0", "total": "0"}]
    (ev,) = dec.feed(later, 2.0)
    assert isinstance(ev, BookUpdate) and not ev.snapshot
    assert book.bids.quantity_at(320.0) == 0.0


def test_bithumb_older_delta_is_stale() -> None:
    msgs = [m for _, m in _msgs() if m.get("type") == "orderbookdepth"]
    sym = msgs[0]["content"]["list"][0]["symbol"]
    dec = BithumbReplayDecoder()
    t0 = int(msgs[0]["content"]["datetime"]) // 1000
    url, body = _chz_snapshot(t0 - 5)
    body["data"]["order_currency"], body["data"]["payment_currency"] = sym.split("_")
    dec.snapshot(url, body, 0.0)
    dec.feed(msgs[0], 1.0)
    old = copy.deepcopy(msgs[0])
    old["content"]["datetime"] = str(int(old["content"]["datetime"]) - 10_000_000)
    assert dec.feed(old, 2.0) == []
    assert dec.legacy_sync.stats.stale_deltas == 1


def test_bithumb_current_format_full_book() -> None:
    dec = BithumbReplayDecoder()
    msg = {"type": "orderbook", "code": "KRW-BTC", "timestamp": "1751273822895123",
           "stream_type": "SNAPSHOT", "orderbook_units": [
               {"ask_price": 137002000, "bid_price": 137001000, "ask_size": 0.0, "bid_size": 0.0024},
               {"ask_price": 137010000, "bid_price": 136990000, "ask_size": 0.15, "bid_size": 0.045}]}
    (ev,) = dec.feed(msg, 1.0)
    assert isinstance(ev, BookUpdate) and ev.snapshot and ev.symbol == "BTC/KRW"
    assert ev.venue == "bithumb" and dec.sync.stats.snapshots == 1
    assert ev.asks.tolist() == [[137010000.0, 0.15]]  # zero-size unit skipped
    assert ev.exchange_ts == pytest.approx(1751273822.895123)


def test_bithumb_bytes_and_dict_paths_agree() -> None:
    for _, m in _msgs():
        assert parse(m) == decode(json.dumps(m).encode())


def test_bithumb_symbols_and_markets() -> None:
    krw = json.loads(shared_data("rest/bithumb/bithumb_ticker_ALL_KRW_2021-06-01.json").read_text())
    btc = json.loads(shared_data("rest/bithumb/bithumb_ticker_ALL_BTC_2021-06-01.json").read_text())
    syms = bithumb_symbols()
    add_ticker_all(syms, krw, "KRW")
    add_ticker_all(syms, btc, "BTC")
    assert "BTC_KRW" in syms and "ETH_BTC" in syms and "date_KRW" not in syms
    assert syms.to_unified("BTC_KRW") == "BTC/KRW" and syms.to_venue("ETH/BTC") == "ETH_BTC"
    assert to_unified("KRW-BTC") == "BTC/KRW" and to_venue("BTC/KRW") == "KRW-BTC"
    assert to_venue("BTC/KRW", legacy=True) == "BTC_KRW"
    (cur,) = parse_market_all([{"market": "KRW-BTC", "korean_name": "x", "english_name": "y"}])
    assert (cur.symbol, cur.venue_symbol, cur.step_size, cur.taker_fee) == (
        "BTC/KRW", "KRW-BTC", 1e-8, 0.0025)
    markets = parse_ticker_all(krw, "KRW") + parse_ticker_all(btc, "BTC")
    assert len(markets) == len(syms) > 200
    assert all(m.taker_fee == 0.0025 for m in markets)
