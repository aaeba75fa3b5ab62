"""Gate.io: REST snapshot + ``spot.order_book_update`` replay on the real 2021 capture."""

from __future__ import annotations

import gzip
import heapq
import json
from typing import Any

from arbot.events import BookUpdate, TradeTick
from arbot.sources.replay import iter_capture
from arbot.testing import shared_data
from arbot_gate import GateReplayDecoder
from arbot_gate.markets import parse_currency_pairs
from arbot_gate.messages import decode, parse
from arbot_gate.sync import BookSync, Phase, Verdict, bridges

WS = "ws/gateio/cf_gateio_spot_2021-04-22.ndjson"
REST = "rest/gateio/cf_gateio_order_book_snapshots_2021-04-22.ndjson"
NOT_BRIDGED = {"INK/USDT", "BTC/USDC"}  # data README: only 1-2 deltas, none bridging


def _lines() -> list[tuple[float, str, Any, str | None]]:
    streams = [iter_capture(shared_data(REST)), iter_capture(shared_data(WS))]
    return list(heapq.merge(*streams, key=lambda r: r[0]))


def _replay(lines: list[tuple[float, str, Any, str | None]]) -> tuple[GateReplayDecoder, list]:
    dec = GateReplayDecoder()
    events = []
    for ts, kind, payload, url in lines:
        evs = dec.snapshot(url or "", payload, ts) if kind == "rest" else (
            dec.feed(payload, ts) if kind == "in" else [])
        for ev in evs:
            events.append(ev)
            if isinstance(ev, BookUpdate):
                assert not dec.books[ev.symbol].is_crossed, ev.symbol
    return dec, events


def test_gate_every_snapshot_bridges_without_gaps() -> None:
    dec, events = _replay(_lines())
    c = dec.counters
    assert c["rest_snapshots"] == 10
    assert c["gaps"] == 0 and c["snapshot_behind"] == 0 and c["crossed"] == 0
    assert c["bridged"] == 8
    for sym in dec.books:
        expected = Phase.BRIDGING if sym in NOT_BRIDGED else Phase.LIVE
        assert dec.phase(sym) is expected, sym
    # not-yet-synced books produced no book event
    assert not any(isinstance(e, BookUpdate) and e.symbol in NOT_BRIDGED for e in events)
    snaps = [e for e in events if isinstance(e, BookUpdate) and e.snapshot]
    assert len(snaps) == 8
    assert sum(isinstance(e, TradeTick) for e in events) == 9


def test_gate_dropped_update_is_a_gap() -> None:
    lines = _lines()
    dec0, _ = _replay(lines)
    # drop the 3rd OMG_USDT update after its snapshot
    seen_snap = False
    k = 0
    drop_at = None
    for i, (_, kind, p, url) in enumerate(lines):
        if kind == "rest" and "OMG_USDT" in (url or ""):
            seen_snap = True
        elif seen_snap and kind == "in" and p.get("channel") == "spot.order_book_update" \
                and p.get("event") == "update" and p["result"]["s"] == "OMG_USDT":
            k += 1
            if k == 3:
                drop_at = i
                break
    assert drop_at is not None
    dec, _ = _replay(lines[:drop_at] + lines[drop_at + 1 :])
    assert dec.counters["gaps"] == 1
    assert dec.phase("OMG/USDT") is Phase.WAITING_SNAPSHOT
    assert dec0.counters["gaps"] == 0


def test_gate_sync_rules() -> None:
    assert bridges(100, 95, 101) and bridges(100, 101, 101) and not bridges(100, 102, 105)
    s: BookSync[str] = BookSync()
    assert s.on_delta(95, 99, "old") is Verdict.BUFFER
    assert s.on_delta(100, 103, "bridge") is Verdict.BUFFER
    applied = s.on_snapshot(101)
    assert applied == [(Verdict.BRIDGE, "bridge")] and s.phase is Phase.LIVE
    assert s.on_delta(104, 104, "x") is Verdict.APPLY
    assert s.on_delta(103, 104, "dup") is Verdict.STALE
    assert s.on_delta(106, 107, "lost 105") is Verdict.GAP
    assert s.phase is Phase.WAITING_SNAPSHOT and s.counters["gaps"] == 1
    s2: BookSync[str] = BookSync()
    s2.on_snapshot(10)
    assert s2.on_delta(20, 21, "late snapshot") is Verdict.GAP
    assert s2.counters["snapshot_behind"] == 1 and s2.counters["gaps"] == 0


def test_gate_bytes_and_dict_paths_agree() -> None:
    for _, kind, p, _ in _lines():
        if kind == "in":
            assert parse(p) == decode(json.dumps(p).encode())


def test_gate_markets_and_symbols() -> None:
    with gzip.open(shared_data("rest/gateio/gateio_currency_pairs_2021-04-22.json.gz"), "rt") as fh:
        body = json.load(fh)
    markets = {m.symbol: m for m in parse_currency_pairs(body)}
    assert len(markets) == len(body)
    iht = markets["IHT/ETH"]
    assert iht.venue_symbol == "IHT_ETH" and iht.tick_size == 1e-9 and iht.step_size == 0.1
    assert iht.min_notional == 0.001 and iht.taker_fee == 0.002 and iht.active
    dec = GateReplayDecoder()
    dec.snapshot("https://api.gateio.ws/api/v4/spot/currency_pairs", body, 0.0)
    assert dec.symbols.to_unified("BTC_USDT") == "BTC/USDT"
    assert dec.symbols.to_venue("IHT/ETH") == "IHT_ETH"
