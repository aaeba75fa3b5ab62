"""KuCoin: REST level-2 snapshots + ``/market/level2`` replay on the real 2021 capture."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from arbot.book import OrderBook
from arbot.components import MarketEvent
from arbot.events import BookUpdate, TradeTick
from arbot.market import BookHealth
from arbot.testing import shared_data
from arbot.testing.replay import CaptureLine, capture_lines, replay_lines
from arbot_kucoin import KucoinConnector, KucoinReplayDecoder
from arbot_kucoin.markets import parse_symbols
from arbot_kucoin.messages import decode, entry_applies, parse
from arbot_kucoin.symbols import symbols_from_body

pytestmark = pytest.mark.shared_data

WS = "ws/kucoin/cf_kucoin_level2_ticker_match_2021-04-25.ndjson.gz"
REST = "rest/kucoin/cf_kucoin_level2_snapshots_2021-04-25.ndjson"


def _lines() -> list[CaptureLine]:
    return capture_lines(REST, WS)


def _replay(lines: list[CaptureLine]) -> tuple[KucoinReplayDecoder, list[MarketEvent]]:
    dec = KucoinConnector.replay_decoder()
    assert isinstance(dec, KucoinReplayDecoder)
    return dec, replay_lines(dec, lines)


def _symbols(lines: list[tuple[float, str, Any, str | None]]) -> set[str]:
    return {p["data"]["symbol"].replace("-", "/") for _, kind, p, _ in lines
            if kind == "in" and p.get("subject") == "trade.l2update"}


def test_kucoin_every_snapshot_bridges_without_gaps() -> None:
    lines = _lines()
    dec, events = _replay(lines)
    st = dec.sync.stats
    assert st.snapshots == 9 and st.gaps == 0 and st.resyncs == 0 and st.snapshot_retries == 0
    assert dec.bootstrap.book_updates == 3853
    syms = _symbols(lines)
    assert len(syms) == 9
    assert all(dec.market.health("kucoin", s) == BookHealth.LIVE for s in syms)
    deltas = [e for e in events if isinstance(e, BookUpdate) and not e.snapshot]
    assert len(deltas) == st.deltas > 3500
    snaps = [e for e in events if isinstance(e, BookUpdate) and e.snapshot]
    assert len(snaps) == 9
    trades = [e for e in events if isinstance(e, TradeTick)]
    assert len(trades) == 18 and all(1.6e9 < (t.exchange_ts or 0) < 1.7e9 for t in trades)


def test_kucoin_events_rebuild_the_synced_book() -> None:
    dec, events = _replay(_lines())
    for sym in _symbols(_lines()):
        rebuilt = OrderBook("kucoin", sym)
        for e in events:
            if isinstance(e, BookUpdate) and e.symbol == sym:
                if e.snapshot:
                    rebuilt.apply_snapshot(e.bids, e.asks, e.ts)
                else:
                    rebuilt.apply_delta(e.bids, e.asks, e.ts)
        book = dec.market.book("kucoin", sym)
        assert list(rebuilt.bids) == list(book.bids) and list(rebuilt.asks) == list(book.asks)


def test_kucoin_dropped_update_is_a_gap() -> None:
    lines = _lines()
    seen = False
    k = 0
    drop_at = None
    for i, (_, kind, p, url) in enumerate(lines):
        if kind == "rest" and "BCHSV-USDT" in (url or ""):
            seen = True
        elif seen and kind == "in" and p.get("subject") == "trade.l2update" \
                and p["data"]["symbol"] == "BCHSV-USDT":
            k += 1
            if k == 20:
                drop_at = i
                break
    assert drop_at is not None
    dec, _ = _replay(lines[:drop_at] + lines[drop_at + 1 :])
    st = dec.sync.stats
    assert st.gaps == 1 and st.resyncs_by_symbol == {"BCHSV/USDT": 1}
    assert dec.market.health("kucoin", "BCHSV/USDT") == BookHealth.RESYNCING
    assert len(dec.market.book("kucoin", "BCHSV/USDT").bids) == 0  # no ghost level
    assert all(dec.market.health("kucoin", s) == BookHealth.LIVE
               for s in _symbols(lines) if s != "BCHSV/USDT")


def test_kucoin_entry_rules() -> None:
    assert entry_applies(1.0, 11, 10) and not entry_applies(1.0, 10, 10)
    assert not entry_applies(0.0, 11, 10)  # price "0": sequence only


def test_kucoin_bridging_update_skips_entries_in_the_snapshot() -> None:
    dec = KucoinReplayDecoder()
    def l2(start: int, end: int, bids: list[list[str]]) -> dict[str, Any]:
        return {"type": "message", "subject": "trade.l2update", "data": {
            "symbol": "X-USDT", "sequenceStart": start, "sequenceEnd": end,
            "changes": {"bids": bids, "asks": []}}}
    dec.feed(l2(8, 9, [["1", "9", "9"]]), 1.0)
    # entry 10 is in the snapshot (size 5 there, set to 7 by entry 12 afterwards)
    dec.feed(l2(10, 12, [["2", "7", "12"], ["2", "4", "10"], ["0", "0", "11"]]), 1.0)
    dec.snapshot("/api/v1/market/orderbook/level2_100?symbol=X-USDT",
                 {"code": "200000", "data": {"sequence": "10", "bids": [["2", "5"]],
                                             "asks": [["3", "1"]]}}, 1.0)
    book = dec.market.book("kucoin", "X/USDT")
    assert list(book.bids) == [(2.0, 7.0)] and book.sequence == 12
    assert dec.sync.stats.stale_deltas == 1 and dec.sync.stats.deltas == 1


def test_kucoin_bytes_and_dict_paths_agree() -> None:
    n = 0
    for _, kind, p, _ in _lines()[:1500]:
        if kind == "in":
            a = parse(p)
            assert a == decode(json.dumps(p).encode())
            n += bool(a)
    assert n > 1000


def test_kucoin_markets_and_symbols() -> None:
    with gzip.open(shared_data("rest/kucoin/kucoin_symbols_2021-04-25.json.gz"), "rt") as fh:
        body = json.load(fh)
    syms = symbols_from_body(body)
    assert len(syms) == len(body["data"])
    assert syms.to_unified("REQ-ETH") == "REQ/ETH" and syms.to_venue("BTC/USDT") == "BTC-USDT"
    markets = {m.symbol: m for m in parse_symbols(body)}
    req = markets["REQ/BTC"]
    assert req.tick_size == 1e-8 and req.step_size == 1e-4 and req.min_qty == 1.0
    assert req.min_notional == 1e-5 and req.active
