"""Gate.io: REST snapshot + ``spot.order_book_update`` replay on the real 2021 capture."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from arbot.components import MarketEvent
from arbot.events import BookUpdate, TradeTick
from arbot.market import BookHealth
from arbot.testing import shared_data
from arbot.testing.replay import CaptureLine, capture_lines, replay_lines
from arbot_gate import GateConnector, GateReplayDecoder
from arbot_gate.markets import parse_currency_pairs
from arbot_gate.messages import decode, parse
from arbot_gate.symbols import symbols_from_pairs

pytestmark = pytest.mark.shared_data

WS = "ws/gateio/cf_gateio_spot_2021-04-22.ndjson"
REST = "rest/gateio/cf_gateio_order_book_snapshots_2021-04-22.ndjson"
NOT_BRIDGED = {"INK/USDT", "BTC/USDC"}  # data README: only 1-2 deltas, none bridging


def _lines() -> list[CaptureLine]:
    return capture_lines(REST, WS)


def _replay(lines: list[CaptureLine]) -> tuple[GateReplayDecoder, list[MarketEvent]]:
    dec = GateConnector.replay_decoder()
    assert isinstance(dec, GateReplayDecoder)
    return dec, replay_lines(dec, lines)


def _book_symbols(lines: list[tuple[float, str, Any, str | None]]) -> set[str]:
    return {p["result"]["s"].replace("_", "/") for _, kind, p, _ in lines
            if kind == "in" and p.get("channel") == "spot.order_book_update"
            and p.get("event") == "update"}


def test_gate_every_snapshot_bridges_without_gaps() -> None:
    lines = _lines()
    dec, events = _replay(lines)
    st = dec.sync.stats
    assert st.snapshots == 10 and st.gaps == 0 and st.resyncs == 0 and st.snapshot_retries == 0
    syms = _book_symbols(lines)
    assert len(syms) == 10
    for sym in syms:
        assert dec.market.health("gate", sym) == BookHealth.LIVE, sym
    # books of NOT_BRIDGED saw no delta after their snapshot: they hold the snapshot only
    applied = {e.symbol for e in events if isinstance(e, BookUpdate) and not e.snapshot}
    assert applied == syms - NOT_BRIDGED
    snaps = [e for e in events if isinstance(e, BookUpdate) and e.snapshot]
    assert len(snaps) == 10
    assert st.deltas >= sum(isinstance(e, BookUpdate) and not e.snapshot for e in events) > 100
    assert dec.bootstrap.book_updates == st.deltas + st.stale_deltas
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
    st = dec.sync.stats
    assert st.gaps == 1 and st.resyncs_by_symbol == {"OMG/USDT": 1}
    assert dec.market.health("gate", "OMG/USDT") == BookHealth.RESYNCING
    assert len(dec.market.book("gate", "OMG/USDT").asks) == 0
    assert dec0.sync.stats.gaps == 0


def test_gate_sync_rules() -> None:
    """The official procedure, on hand-made pushes: stale, bridge, continuity, gap, and a
    snapshot older than the buffered updates (fetched again)."""
    def upd(first: int, last: int, bid: str) -> dict[str, Any]:
        return {"channel": "spot.order_book_update", "event": "update",
                "result": {"s": "X_USDT", "U": first, "u": last, "b": [[bid, "1"]], "a": []}}

    def snap(i: int) -> tuple[str, dict[str, Any]]:
        return ("/api/v4/spot/order_book?currency_pair=X_USDT&with_id=true",
                {"id": i, "bids": [["1", "5"]], "asks": [["9", "1"]]})

    dec = GateReplayDecoder()
    dec.feed(upd(95, 99, "2"), 0.0)
    dec.feed(upd(100, 103, "3"), 0.0)
    dec.snapshot(*snap(101), 0.0)
    st = dec.sync.stats
    assert st.stale_deltas == 1 and st.deltas == 1
    book = dec.market.book("gate", "X/USDT")
    assert book.sequence == 103 and book.bids.best() == (3.0, 1.0)
    dec.feed(upd(104, 104, "4"), 0.0)
    dec.feed(upd(103, 104, "5"), 0.0)  # already applied
    assert st.deltas == 2 and st.stale_deltas == 2
    dec.feed(upd(106, 107, "6"), 0.0)  # 105 lost
    assert st.gaps == 1 and dec.market.health("gate", "X/USDT") == BookHealth.RESYNCING
    dec.snapshot(*snap(90), 0.0)  # behind the buffered update 106: not used
    assert st.snapshot_retries == 1 and st.snapshots == 1
    dec.snapshot(*snap(106), 0.0)
    assert dec.market.health("gate", "X/USDT") == BookHealth.LIVE and book.sequence == 107


def test_gate_bytes_and_dict_paths_agree() -> None:
    for _, kind, p, _ in _lines():
        if kind == "in":
            assert parse(p) == decode(json.dumps(p).encode())


def test_gate_markets_and_symbols() -> None:
    with gzip.open(shared_data("rest/gateio/gateio_currency_pairs_2021-04-22.json.gz"), "rt") as fh:
        body = json.load(fh)
    syms = symbols_from_pairs(body)
    assert len(syms) == len(body) and syms.to_venue("IHT/ETH") == "IHT_ETH"
    markets = {m.symbol: m for m in parse_currency_pairs(body)}
    assert len(markets) == len(body)
    iht = markets["IHT/ETH"]
    assert iht.venue_symbol == "IHT_ETH" and iht.tick_size == 1e-9 and iht.step_size == 0.1
    assert iht.min_notional == 0.001 and iht.taker_fee == 0.002 and iht.active
    dec = GateReplayDecoder()
    dec.snapshot("https://api.gateio.ws/api/v4/spot/currency_pairs", body, 0.0)
    assert dec.symbols.to_unified("BTC_USDT") == "BTC/USDT"
    assert dec.symbols.to_venue("IHT/ETH") == "IHT_ETH"
