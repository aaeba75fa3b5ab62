"""Replay of the real Binance captures through the connector's decoder and sync rules."""

from __future__ import annotations

import gzip
from pathlib import Path

import msgspec
import pytest
from arbot.book import OrderBook
from arbot.events import BookUpdate, TradeTick
from arbot.sources.replay import iter_capture
from arbot.testing import shared_data
from arbot.testing.replay import replay_lines
from arbot_binance import BinanceConnector, BinanceReplayDecoder
from arbot_binance.connector import parse_exchange_info

pytestmark = pytest.mark.shared_data


def _replay(decoder: BinanceReplayDecoder, *paths: Path) -> list[object]:
    return list(replay_lines(decoder, (line for path in paths for line in iter_capture(path))))


def _count_depth(*paths: Path) -> int:
    n = 0
    for path in paths:
        for _, kind, payload, _ in iter_capture(path):
            if kind == "in" and "@depth" in payload.get("stream", ""):
                n += 1
    return n


def test_spot_btcusdt_two_files_bridge_without_gaps() -> None:
    a = shared_data("ws/binance/hbt_binance_spot_btcusdt_2024-08-08T2354.ndjson.gz")
    b = shared_data("ws/binance/hbt_binance_spot_btcusdt_2024-08-09T0000.ndjson.gz")
    dec = BinanceConnector.replay_decoder()
    assert isinstance(dec, BinanceReplayDecoder)
    events = _replay(dec, a, b)
    st = dec.sync.stats
    assert st.snapshots == 1 and st.gaps == 0 and st.resyncs == 0 and st.snapshot_retries == 0
    # Every depth message is either applied or contained in the snapshot (stale).
    assert st.deltas + st.stale_deltas == _count_depth(a, b)
    assert st.deltas > 3000
    book = dec.market.book("binance", "BTC/USDT")
    assert not book.is_crossed and len(book.bids) > 100
    assert dec.market.health("binance", "BTC/USDT") == "live"
    trades = [e for e in events if isinstance(e, TradeTick)]
    assert len(trades) > 9000 and all(t.symbol == "BTC/USDT" for t in trades)


def test_replayed_events_rebuild_the_same_book() -> None:
    path = shared_data("ws/binance/hbt_binance_spot_btcusdt_first20s_2024-08-08.ndjson")
    dec = BinanceReplayDecoder()
    events = _replay(dec, path)
    rebuilt = OrderBook("binance", "BTC/USDT")
    snaps = 0
    for e in events:
        if isinstance(e, BookUpdate):
            if e.snapshot:
                snaps += 1
                rebuilt.apply_snapshot(e.bids, e.asks, e.ts)
            else:
                rebuilt.apply_delta(e.bids, e.asks, e.ts)
    assert snaps == 1
    book = dec.market.book("binance", "BTC/USDT")
    assert list(rebuilt.bids) == list(book.bids) and list(rebuilt.asks) == list(book.asks)


def test_replay_matches_an_independent_decimal_reference() -> None:
    """The synced book equals one rebuilt here with Decimal parsing and the documented rule."""
    from decimal import Decimal

    path = shared_data("ws/binance/hbt_binance_spot_btcusdt_first20s_2024-08-08.ndjson")
    dec = BinanceReplayDecoder()
    _replay(dec, path)
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    last = None
    buffer = []
    for _, kind, payload, _ in iter_capture(path):
        if kind == "rest":
            last = payload["lastUpdateId"]
            bids = {Decimal(p): Decimal(q) for p, q in payload["bids"]}
            asks = {Decimal(p): Decimal(q) for p, q in payload["asks"]}
            pending, buffer = buffer, []
        elif kind == "in" and "@depth" in payload["stream"]:
            pending = [payload["data"]]
            if last is None:
                buffer.append(payload["data"])
                continue
        else:
            continue
        for d in pending:
            if d["u"] <= last:
                continue
            assert d["U"] <= last + 1  # no gap in the real capture
            for side, key in ((bids, "b"), (asks, "a")):
                for p, q in d[key]:
                    if Decimal(q) == 0:
                        side.pop(Decimal(p), None)
                    else:
                        side[Decimal(p)] = Decimal(q)
            last = d["u"]
    book = dec.market.book("binance", "BTC/USDT")
    assert dict(book.bids) == {float(p): float(q) for p, q in bids.items()}
    assert dict(book.asks) == {float(p): float(q) for p, q in asks.items()}
    assert book.sequence == last


def test_cryptofeed_capture_four_symbols_all_bridge() -> None:
    ws = shared_data("ws/binance/cf_binance_spot_2021-10-12.ndjson")
    rest = shared_data("rest/binance/cf_binance_spot_depth_snapshots_2021-10-12.ndjson")
    info = shared_data("rest/binance/binance_spot_exchangeInfo_2021-10-12.json.gz")
    markets = parse_exchange_info(gzip.decompress(info.read_bytes()))
    unified = {m.venue_symbol: m.symbol for m in markets}
    dec = BinanceReplayDecoder(unified=unified)
    # Merge both files by local time, as the replay source does.
    lines = sorted([*iter_capture(ws), *iter_capture(rest)], key=lambda r: r[0])
    for ts, kind, payload, url in lines:
        if kind == "rest":
            dec.snapshot(url or "", payload, ts)
        elif kind == "in":
            dec.feed(payload, ts)
    st = dec.sync.stats
    assert st.snapshots == 4 and st.gaps == 0 and st.resyncs == 0
    for sym in ("NKN/USDT", "BLZ/ETH", "LRC/BTC", "RUNE/EUR"):
        assert dec.market.health("binance", sym) == "live", sym
        assert not dec.market.book("binance", sym).is_crossed


def test_usdm_futures_rule_replays_without_gaps() -> None:
    path = shared_data("ws/binance/hbt_binance_usdm_btcusdt_2024-08-08T2354.ndjson.gz")
    dec = BinanceReplayDecoder(futures=True)
    _replay(dec, path)
    st = dec.sync.stats
    assert st.snapshots == 1 and st.gaps == 0 and st.deltas > 6000
    # The spot rule on futures ids (U jumps across messages) would see gaps everywhere.
    spot = BinanceReplayDecoder(futures=False)
    _replay(spot, path)
    assert spot.sync.stats.gaps > 0


def test_exchange_info_metadata() -> None:
    info = shared_data("rest/binance/binance_spot_exchangeInfo_2021-10-12.json.gz")
    body = msgspec.json.decode(gzip.decompress(info.read_bytes()))
    markets = {m.symbol: m for m in parse_exchange_info(body)}
    assert len(markets) > 1000
    btc = markets["BTC/USDT"]
    raw = next(s for s in body["symbols"] if s["symbol"] == "BTCUSDT")
    filt = {f["filterType"]: f for f in raw["filters"]}
    assert btc.venue_symbol == "BTCUSDT" and btc.base == "BTC" and btc.quote == "USDT"
    assert btc.tick_size == float(filt["PRICE_FILTER"]["tickSize"])
    assert btc.step_size == float(filt["LOT_SIZE"]["stepSize"])
    assert btc.min_notional == float(filt["MIN_NOTIONAL"]["minNotional"])
    assert btc.taker_fee == 0.001


def test_spot_first_delta_must_bridge_the_snapshot() -> None:
    """The real capture with the bridging delta (``U <= lastUpdateId + 1 <= u``) left out:
    the next delta starts after ``lastUpdateId + 1``, so it is a gap, never applied."""
    path = shared_data("ws/binance/hbt_binance_spot_btcusdt_first20s_2024-08-08.ndjson")
    records = list(iter_capture(path))
    snap = next((ts, p, url) for ts, kind, p, url in records if kind == "rest")
    last_id = snap[1]["lastUpdateId"]
    deltas = [(ts, p) for ts, kind, p, _ in records
              if kind == "in" and "@depth" in p["stream"] and p["data"]["u"] > last_id]
    bridge = deltas[0][1]["data"]
    assert bridge["U"] <= last_id + 1 <= bridge["u"]  # the capture's own bridge
    dec = BinanceReplayDecoder()
    dec.snapshot(snap[2] or "", snap[1], snap[0])
    assert dec.market.health("binance", "BTC/USDT") == "live"
    events = dec.feed(deltas[1][1], deltas[1][0])  # skips the bridge
    assert events == []
    assert dec.sync.stats.gaps == 1 and dec.sync.stats.deltas == 0
    assert dec.market.health("binance", "BTC/USDT") != "live"


def test_usdm_capture_lands_on_the_linear_symbol() -> None:
    """The connector's own replay decoder reads the market from the capture: the USDⓈ-M
    depth stream (``pu``) and its ``/fapi/`` snapshot build ``BTC/USDT:USDT``, never the
    spot book ``BTC/USDT``."""
    path = shared_data("ws/binance/hbt_binance_usdm_btcusdt_2024-08-08T2354.ndjson.gz")
    dec = BinanceConnector.replay_decoder()
    events = _replay(dec, path)
    assert dec.market.health("binance", "BTC/USDT:USDT") == "live"
    assert "BTC/USDT" not in dec.books and set(dec.books) == {"BTC/USDT:USDT"}
    assert {e.symbol for e in events if isinstance(e, BookUpdate | TradeTick)} == {"BTC/USDT:USDT"}
    assert dec.sync.stats.gaps == 0 and dec.sync.stats.deltas > 6000
    spot = BinanceConnector.replay_decoder()
    _replay(spot, shared_data("ws/binance/hbt_binance_spot_btcusdt_first20s_2024-08-08.ndjson"))
    assert set(spot.books) == {"BTC/USDT"}
