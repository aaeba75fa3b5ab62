"""Upbit: full-book replacement on the real SIMPLE-format captures, DEFAULT samples, markets."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from arbot.book import OrderBook
from arbot.connectors.bootstrap import book_diff
from arbot.connectors.records import BookKind, BookRecord, TradeMsg
from arbot.events import BookUpdate, TradeTick
from arbot.sources.replay import iter_capture
from arbot.testing import shared_data
from arbot_upbit import UpbitConnector, UpbitReplayDecoder
from arbot_upbit.markets import parse_instruments, parse_market_all
from arbot_upbit.messages import decode, epoch_seconds, head, parse
from arbot_upbit.symbols import quotes, symbols_from_market_all

CAPTURES = ["ws/upbit/cf_upbit_trade_orderbook_2021-04-17.ndjson",
            "ws/upbit/cf_upbit_trade_orderbook_2021-04-05.ndjson.gz"]


def _msgs(rel: str) -> list[tuple[float, Any]]:
    return [(ts, p) for ts, k, p, _ in iter_capture(shared_data(rel)) if k == "in"]


@pytest.mark.parametrize("rel", CAPTURES)
def test_upbit_every_orderbook_replaces_the_book(rel: str) -> None:
    dec = UpbitConnector.replay_decoder()
    assert isinstance(dec, UpbitReplayDecoder)
    n_books = 0
    rebuilt: dict[str, OrderBook] = {}
    for ts, msg in _msgs(rel):
        recs = parse(msg)
        for ev in dec.feed(msg, ts):
            if isinstance(ev, BookUpdate):
                n_books += 1
                assert ev.applied
                book = dec.market.book("upbit", ev.symbol)
                assert not book.is_crossed
                # the book is exactly the message: nothing survives from the previous one
                (rec,) = recs or []
                assert isinstance(rec, BookRecord) and rec.kind is BookKind.FULL
                assert list(book.bids) == sorted(rec.bids, reverse=True)
                assert list(book.asks) == sorted(rec.asks)
                r = rebuilt.setdefault(ev.symbol, OrderBook("upbit", ev.symbol))
                if ev.snapshot:
                    r.apply_snapshot(ev.bids, ev.asks, ts)
                else:
                    r.apply_delta(ev.bids, ev.asks, ts)
                assert list(r.bids) == list(book.bids) and list(r.asks) == list(book.asks)
            else:
                assert isinstance(ev, TradeTick) and ev.price > 0
    st = dec.sync.stats
    assert st.snapshots + st.deltas == n_books > 100
    assert st.snapshots == len(rebuilt) and st.resyncs == 0
    assert dec.counters["stale_books"] == 0 and dec.ignored == 0
    assert any(s.endswith("/KRW") for s in rebuilt)
    assert all(len(b.bids) <= 15 and len(b.asks) <= 15 for b in rebuilt.values())


def test_upbit_older_message_is_stale() -> None:
    msgs = [m for _, m in _msgs(CAPTURES[0]) if m.get("ty") == "orderbook"]
    dec = UpbitReplayDecoder()
    dec.feed(msgs[1], 1.0)
    old = copy.deepcopy(msgs[1])
    old["tms"] -= 1000
    old["obu"][0]["bs"] += 1.0
    assert dec.feed(old, 2.0) == []
    assert dec.counters["stale_books"] == 1
    same_time = copy.deepcopy(msgs[1])
    same_time["obu"][0]["bs"] += 2.0
    assert dec.feed(same_time, 3.0)  # equal venue time: applied (only older is stale)


def test_upbit_book_diff() -> None:
    held = [(10.0, 1.0), (9.0, 2.0), (8.0, 3.0)]
    assert sorted(book_diff(held, [(10.0, 1.0), (9.0, 5.0), (7.0, 1.0)])) == [
        (7.0, 1.0), (8.0, 0.0), (9.0, 5.0)]
    assert book_diff(held, held) == []


def test_upbit_default_format_samples() -> None:
    with shared_data("ws/format_samples/tardis_upbit_default_format_samples.ndjson").open() as fh:
        lines = fh.read().splitlines()
    recs = [r for line in lines for r in parse(json.loads(line)) or []]
    for line in lines:
        assert parse(json.loads(line)) == decode(line.encode())
    books = [r for r in recs if isinstance(r, BookRecord)]
    trades = [r for r in recs if isinstance(r, TradeMsg)]
    assert books and trades
    dot = next(b for b in books if b.symbol == "KRW-DOT")
    assert all(p > 0 for p, _ in dot.asks)  # the ask_price 0 unit is skipped
    etc = next(b for b in books if b.symbol == "USDT-ETC")
    assert etc.ts == pytest.approx(1691530805.062)  # µs timestamp normalised
    assert epoch_seconds("1751273822895123") == pytest.approx(1751273822.895123)


def test_upbit_bytes_and_dict_paths_agree() -> None:
    for _, m in _msgs(CAPTURES[0]):
        assert parse(m) == decode(json.dumps(m).encode())


def test_upbit_symbols_and_markets() -> None:
    body = json.loads(shared_data("rest/upbit/upbit_market_all_2021-04-17.json").read_text())
    syms = symbols_from_market_all(body)
    assert len(syms) == len(body)
    assert syms.to_unified("KRW-BTC") == "BTC/KRW" and syms.to_venue("ETH/BTC") == "BTC-ETH"
    assert {"KRW", "BTC", "USDT"} <= quotes(syms)
    markets = {m.symbol: m for m in parse_market_all(body)}
    assert markets["BTC/KRW"].taker_fee == 0.0005 and markets["BTC/KRW"].min_notional == 5000
    assert markets["ETH/BTC"].taker_fee == 0.0025
    ticks = parse_instruments([{"market": "KRW-BTC", "quote_currency": "KRW",
                                "tick_size": "1000", "supported_levels": ["0"]}])
    with_ticks = {m.symbol: m for m in parse_market_all(body, ticks=ticks, step=1e-8)}
    assert with_ticks["BTC/KRW"].tick_size == 1000.0 and with_ticks["ETH/BTC"].tick_size == 0.0
    assert with_ticks["BTC/KRW"].step_size == 1e-8


def test_upbit_frame_heads() -> None:
    assert head(b'{"status":"UP"}').kind == "status"
    assert head('{"error":{"name":"NO_TICKET","message":"x"}}').kind == "error"
    assert head(b'{"ty":"orderbook","cd":"KRW-BTC"}').kind == "orderbook"
    assert head('{"type":"ticker"}').kind == "other"
    assert head('{"unexpected": 1}').kind == ""
