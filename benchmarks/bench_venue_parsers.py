"""Per-venue parse + book-apply throughput on the real captures in ``shared/data``.

Each venue's own replay decoder (``Connector.replay_decoder()``, found through the plugin
registry: the venue's parser, its sequence/checksum rules through core ``BookSync``, and the
order book) is timed three ways: (a) fed messages already JSON-decoded (parse + sync + book),
(b) from the raw frame bytes with msgspec's JSON decoder in front, and (c) the peer: the same
with the stdlib ``json.loads`` in front. Ratios are (b) / (c). Run:
``python benchmarks/bench_venue_parsers.py``.
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from arbot.plugins import PluginHost
from arbot.sources.replay import iter_capture
from arbot.testing.data import shared_data_dir

REPEAT_SECONDS = 1.5

VENUES: dict[str, dict[str, Any]] = {
    "binance": {"ws": ["ws/binance/hbt_binance_spot_btcusdt_2024-08-08T2354.ndjson.gz"], "rest": []},
    "okx": {"ws": ["ws/okx/cf_okx_books_trades_tickers_2022-05-13.ndjson"], "rest": []},
    "bybit": {
        "ws": ["ws/bybit/bybit_v5_linear_orderbook500_xrpusdt_2024-12-01T0000.ndjson"],
        "rest": [],
        "bare": True,
    },
    "upbit": {"ws": ["ws/upbit/cf_upbit_trade_orderbook_2021-04-05.ndjson.gz"], "rest": []},
    "bithumb": {"ws": ["ws/bithumb/cf_bithumb_orderbookdepth_transaction_2021-06-01.ndjson"], "rest": []},
    "kucoin": {
        "ws": ["ws/kucoin/cf_kucoin_level2_ticker_match_2021-04-25.ndjson.gz"],
        "rest": ["rest/kucoin/cf_kucoin_level2_snapshots_2021-04-25.ndjson"],
    },
    "gate": {
        "ws": ["ws/gateio/cf_gateio_spot_2021-04-22.ndjson"],
        "rest": ["rest/gateio/cf_gateio_order_book_snapshots_2021-04-22.ndjson"],
    },
    "bitget": {"ws": ["ws/bitget/cf_bitget_spot_v1_books_trade_ticker_2022-04-07.ndjson.gz"], "rest": []},
}


def _load(venue: str, base: Path) -> list[tuple[float, str, Any, str]]:
    spec = VENUES[venue]
    if spec.get("bare"):
        lines = (base / spec["ws"][0]).read_text().splitlines()
        return [(m["ts"] / 1000.0, "in", m, "") for m in map(json.loads, lines)]
    streams = [iter_capture(base / p) for p in spec["rest"] + spec["ws"]]
    return [
        (ts, k, p, u or "")
        for ts, k, p, u in heapq.merge(*streams, key=lambda r: r[0])
        if k in ("in", "rest")
    ]


def _decoder_factory(host: PluginHost, venue: str) -> Callable[[], Any]:
    connector = host.resolve("connector", venue)
    return connector.replay_decoder  # type: ignore[attr-defined, no-any-return]


def _time(fn: Callable[[], int]) -> tuple[float, int]:
    n = 0
    runs = 0
    t0 = time.perf_counter()
    while True:
        n += fn()
        runs += 1
        el = time.perf_counter() - t0
        if el >= REPEAT_SECONDS and runs >= 3:
            return n / el, runs


def main() -> None:
    base = shared_data_dir()
    if base is None:
        raise SystemExit("shared/data not found (set ARBOT_SHARED_DATA)")
    host = PluginHost()
    print(
        f"{'venue':8} {'msgs':>6} {'decoded msg/s':>14} {'bytes+msgspec msg/s':>20} "
        f"{'bytes+stdlib msg/s':>19} {'msgspec/stdlib':>15}"
    )
    decode = msgspec.json.Decoder().decode
    for venue in VENUES:
        cls = _decoder_factory(host, venue)
        lines = _load(venue, base)
        raws = [(ts, k, p, u, json.dumps(p).encode()) for ts, k, p, u in lines]
        n_in = sum(1 for r in lines if r[1] == "in")

        def dict_path(lines: list[Any] = lines, cls: Any = cls, n_in: int = n_in) -> int:
            dec = cls()
            for ts, k, p, u in lines:
                if k == "rest":
                    dec.snapshot(u, p, ts)
                else:
                    dec.feed(p, ts)
            return n_in

        def bytes_path(raws: list[Any] = raws, cls: Any = cls, decode: Any = decode, n_in: int = n_in) -> int:
            dec = cls()
            for ts, k, p, u, raw in raws:
                if k == "rest":
                    dec.snapshot(u, p, ts)
                    continue
                dec.feed(decode(raw), ts)
            return n_in

        def stdlib_path(raws: list[Any] = raws, cls: Any = cls, n_in: int = n_in) -> int:
            dec = cls()
            loads = json.loads
            for ts, k, p, u, raw in raws:
                if k == "rest":
                    dec.snapshot(u, p, ts)
                else:
                    dec.feed(loads(raw), ts)
            return n_in

        d, _ = _time(dict_path)
        b, _ = _time(bytes_path)
        s, _ = _time(stdlib_path)
        print(f"{venue:8} {n_in:>6} {d:>14,.0f} {b:>20,.0f} {s:>19,.0f} {b / s:>14.2f}x")


if __name__ == "__main__":
    main()
