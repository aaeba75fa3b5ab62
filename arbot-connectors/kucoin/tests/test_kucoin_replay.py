"""KuCoin: REST level-2 snapshots + ``/market/level2`` replay on the real 2021 capture."""

from __future__ import annotations

import gzip
import heapq
import json
from typing import Any

from arbot.events import BookUpdate, TradeTick
from arbot.sources.replay import iter_capture
from arbot.testing import shared_data
from arbot_kucoin import KucoinReplayDecoder
from arbot_kucoin.markets import parse_symbols
from arbot_kucoin.messages import decode, parse
from arbot_kucoin.symbols import KucoinSymbols
from arbot_kucoin.sync import BookSync, Phase, Verdict, entry_applies

WS = "ws/kucoin/cf_kucoin_level2_ticker_match_2021-04-25.ndjson.gz"
REST = "rest/kucoin/cf_kucoin_level2_snapshots_2021-04-25.ndjson"


def _lines() -> list[tuple[float, str, Any, str | None]]:
    streams = [iter_capture(shared_data(REST)), iter_capture(shared_data(WS))]
    return list(heapq.merge(*streams, key=lambda r: r[0]))


def _replay(lines: list[tuple[float, str, Any, str | None]]) -> tuple[KucoinReplayDecoder, list]:
    dec = KucoinReplayDecoder()
    events = []
    for ts, kind, payload, url in lines:
        evs = dec.snapshot(url or "", payload, ts) if kind == "rest" else (
            dec.feed(payload, ts) if kind == "in" else [])
        for ev in evs:
            events.append(ev)
            if isinstance(ev, BookUpdate):
                assert not dec.books[ev.symbol].is_crossed, ev.symbol
    return dec, events


def test_kucoin_every_snapshot_bridges_without_gaps() -> None:
    dec, events = _replay(_lines())
    c = dec.counters
    assert c["rest_snapshots"] == 9 and c["bridged"] == 9
    assert c["gaps"] == 0 and c["snapshot_behind"] == 0 and c["crossed"] == 0
    assert c["book_updates"] == 3853
    assert len(dec.books) == 9 and all(dec.is_synced(s) for s in dec.books)
    deltas = [e for e in events if isinstance(e, BookUpdate) and not e.snapshot]
    assert len(deltas) > 3500
    trades = [e for e in events if isinstance(e, TradeTick)]
    assert len(trades) == 18 and all(1.6e9 < (t.exchange_ts or 0) < 1.7e9 for t in trades)


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
    assert dec.counters["gaps"] == 1
    assert dec.phase("BCHSV/USDT") is Phase.WAITING_SNAPSHOT
    assert all(dec.is_synced(s) for s in dec.books if s != "BCHSV/USDT")


def test_kucoin_sync_rules() -> None:
    s: BookSync[str] = BookSync()
    assert s.on_delta(8, 9, "old") is Verdict.BUFFER
    assert s.on_delta(10, 12, "bridge") is Verdict.BUFFER
    assert s.on_snapshot(10) == [(Verdict.BRIDGE, "bridge")]
    assert s.on_delta(13, 13, "next") is Verdict.APPLY
    assert s.on_delta(15, 15, "lost 14") is Verdict.GAP
    assert entry_applies(1.0, 11, 10) and not entry_applies(1.0, 10, 10)
    assert not entry_applies(0.0, 11, 10)  # price "0": sequence only


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
    syms = KucoinSymbols.from_symbols(body)
    assert len(syms) == len(body["data"])
    assert syms.to_unified("REQ-ETH") == "REQ/ETH" and syms.to_venue("BTC/USDT") == "BTC-USDT"
    markets = {m.symbol: m for m in parse_symbols(body)}
    req = markets["REQ/BTC"]
    assert req.tick_size == 1e-8 and req.step_size == 1e-4 and req.min_qty == 1.0
    assert req.min_notional == 1e-5 and req.active
