"""Per-venue parse + book-apply throughput on the real captures in ``shared/data``.

For each venue: messages/s through (a) the replay decoder fed JSON-decoded dicts
(``msgspec.convert`` typed path + sync rules + OrderBook apply), and (b) the live-style path:
raw frame bytes -> ``messages.decode`` (msgspec typed Structs) -> ``decoder.on_records``.
The peer is the same pipeline with the stdlib ``json.loads`` in front of the dict path
("stdlib json + dict path"); ratios are (b) / peer. JSON decoding of the capture lines
themselves is excluded from (a). Run: ``python benchmarks/bench_venue_parsers.py``.
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from arbot.sources.replay import iter_capture
from arbot.testing.data import shared_data_dir

REPEAT_SECONDS = 1.5

VENUES: dict[str, dict[str, Any]] = {
    "okx": {"ws": ["ws/okx/cf_okx_books_trades_tickers_2022-05-13.ndjson"], "rest": []},
    "bybit": {"ws": ["ws/bybit/bybit_v5_linear_orderbook500_xrpusdt_2024-12-01T0000.ndjson"],
              "rest": [], "bare": True},
    "upbit": {"ws": ["ws/upbit/cf_upbit_trade_orderbook_2021-04-05.ndjson.gz"], "rest": []},
    "bithumb": {"ws": ["ws/bithumb/cf_bithumb_orderbookdepth_transaction_2021-06-01.ndjson"],
                "rest": []},
    "kucoin": {"ws": ["ws/kucoin/cf_kucoin_level2_ticker_match_2021-04-25.ndjson.gz"],
               "rest": ["rest/kucoin/cf_kucoin_level2_snapshots_2021-04-25.ndjson"]},
    "gate": {"ws": ["ws/gateio/cf_gateio_spot_2021-04-22.ndjson"],
             "rest": ["rest/gateio/cf_gateio_order_book_snapshots_2021-04-22.ndjson"]},
    "bitget": {"ws": ["ws/bitget/cf_bitget_spot_v1_books_trade_ticker_2022-04-07.ndjson.gz"],
               "rest": []},
}


def _load(venue: str, base: Path) -> list[tuple[float, str, Any, str]]:
    spec = VENUES[venue]
    if spec.get("bare"):
        lines = (base / spec["ws"][0]).read_text().splitlines()
        return [(m["ts"] / 1000.0, "in", m, "") for m in map(json.loads, lines)]
    streams = [iter_capture(base / p) for p in spec["rest"] + spec["ws"]]
    return [(ts, k, p, u or "") for ts, k, p, u in heapq.merge(*streams, key=lambda r: r[0])
            if k in ("in", "rest")]


def _modules(venue: str) -> tuple[Callable[[], Any], Callable[[bytes], Any]]:
    mod = __import__(f"arbot_{venue}.replay", fromlist=["x"])
    msgs = __import__(f"arbot_{venue}.messages", fromlist=["x"])
    cls = next(getattr(mod, n) for n in mod.__all__ if n.endswith("ReplayDecoder"))
    return cls, msgs.decode


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
    print(f"{'venue':8} {'msgs':>6} {'dict path msg/s':>16} {'bytes path msg/s':>17} "
          f"{'stdlib json msg/s':>18} {'bytes/stdlib':>13}")
    for venue in VENUES:
        cls, decode = _modules(venue)
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

        def bytes_path(
            raws: list[Any] = raws, cls: Any = cls, decode: Any = decode, n_in: int = n_in
        ) -> int:
            dec = cls()
            for ts, k, p, u, raw in raws:
                if k == "rest":
                    dec.snapshot(u, p, ts)
                    continue
                recs = decode(raw)
                if recs is not None:
                    dec.on_records(recs, ts)
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
        print(f"{venue:8} {n_in:>6} {d:>16,.0f} {b:>17,.0f} {s:>18,.0f} {b / s:>12.2f}x")


if __name__ == "__main__":
    main()
