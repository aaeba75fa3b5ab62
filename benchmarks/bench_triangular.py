"""Triangular detection on the real Binance spot graph (1,262 markets, 1,982 triangles).

Books are synthetic but consistent: each asset gets a USD price, each market a 10-level book
around base/quote with a few bps of spread. Then 20,000 random book changes (a market's mid
moves by a few bps, now and then by 0.5 % which opens real cycles) are applied and the
detector is told; the cost per change is the detector's ``on_book`` (re-pricing every cycle
through that market, sizing the ones that clear). Also timed: a full scan that re-prices all
3,964 directed cycles.
"""

from __future__ import annotations

import gzip
import random
import statistics
import tempfile
import time

import numpy as np
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.testing.data import shared_data_dir
from arbot_binance.markets import parse_exchange_info

EXCHANGE_INFO = "rest/binance/binance_spot_exchangeInfo_2021-10-12.json.gz"


def levels(
    mid: float, spread: float, rng: random.Random
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    bids = [(mid * (1 - spread - i * 2e-4), rng.uniform(0.5, 5.0)) for i in range(10)]
    asks = [(mid * (1 + spread + i * 2e-4), rng.uniform(0.5, 5.0)) for i in range(10)]
    return bids, asks


def main() -> None:
    base = shared_data_dir()
    if base is None:
        raise SystemExit(f"shared data not found: {EXCHANGE_INFO}")
    with gzip.open(base / EXCHANGE_INFO) as fh:
        markets = [m for m in parse_exchange_info(fh.read()) if m.active]
    cfg = config_from_dict(
        {
            "output_dir": tempfile.mkdtemp(prefix="arbot-bench-"),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance"]},
            "symbols": ["BTC/USDT"],
            "detector": {"triangular": {"enabled": True, "min_profit_pct": 0.15}},
            "executor": {"name": "none"},
            "risk": {"rules": []},
            "sinks": {"enabled": []},
        }
    )
    bot = Bot(cfg, mode="backtest")
    market = bot.ctx.market
    rng = random.Random(42)
    usd = {}
    for m in markets:
        for a in (m.base, m.quote):
            usd.setdefault(a, 10 ** rng.uniform(-3, 4))
    usd.update({"USDT": 1.0, "BUSD": 1.0, "USDC": 1.0, "BTC": 55_000.0, "ETH": 3_500.0})
    mids = {}
    for m in markets:
        market.add_market(m)
        mids[m.symbol] = usd[m.base] / usd[m.quote]
        b = market.book("binance", m.symbol)
        bids, asks = levels(mids[m.symbol], 5e-4, rng)
        b.apply_snapshot(bids, asks, 0.0)
        market.set_health("binance", m.symbol, "live")
    det = bot.detectors[0]
    t0 = time.perf_counter()
    state = det._state("binance")
    build = time.perf_counter() - t0
    assert state is not None
    for m in markets:  # prime every market's rates
        det.on_book("binance", m.symbol, 0.0)
    n = 20_000
    symbols = [m.symbol for m in markets]
    costs = []
    found = 0
    now = 1.0
    for i in range(n):
        sym = rng.choice(symbols)
        move = 1.0 + (rng.choice((-5e-3, 5e-3)) if i % 50 == 0 else rng.uniform(-3e-4, 3e-4))
        mids[sym] *= move
        bids, asks = levels(mids[sym], 5e-4, rng)
        market.get("binance", sym).apply_snapshot(bids, asks, now)
        t = time.perf_counter_ns()
        found += len(det.on_book("binance", sym, now))
        costs.append(time.perf_counter_ns() - t)
        if i % 50 == 0:  # undo the jump so the graph stays near consistent
            mids[sym] /= move
        now += 0.001
    costs_us = np.array(costs) / 1000.0
    through = [len(x) for x in state.graph.cycles_through()]
    # full scan: re-price every cycle at once
    scans = []
    for _ in range(20):
        t = time.perf_counter_ns()
        hits = 0
        for _length, (_, legs) in state.by_length.items():
            hits += int((state.rates[legs].prod(axis=1) >= 1.0015).sum())
        scans.append(time.perf_counter_ns() - t)
    # peer: the textbook loop, per change re-pricing each cycle through the market from its books
    graph = state.graph
    through_cycles = graph.cycles_through()
    fees = state.fees.tolist()
    books = [market.get("binance", m.symbol) for m in graph.markets]

    def naive(m: int) -> int:
        hits = 0
        for k in through_cycles[m]:
            c = state.cycles[k]
            product = 1.0
            for mk, side in zip(c.markets, c.sides, strict=True):
                b = books[mk]
                if side == 0:
                    product *= b.best_bid * (1.0 - fees[mk])
                else:
                    product *= 1.0 / (b.best_ask * (1.0 + fees[mk]))
            hits += product >= 1.0015
        return hits

    sample = [graph.index[rng.choice(symbols)] for _ in range(5_000)]
    naive_costs = []
    for m in sample:
        t = time.perf_counter_ns()
        naive(m)
        naive_costs.append(time.perf_counter_ns() - t)
    naive_us = np.array(naive_costs) / 1000.0
    print(
        "triangular on the real Binance graph: "
        f"{len(state.graph.markets):,} markets, {len(state.graph.triangles()):,} triangles, "
        f"{len(state.cycles):,} directed cycles, up to {max(through) // 2} triangles per market"
    )
    print(f"graph build: {build * 1000:.1f} ms")
    print(f"{'per book change (detector)':<34}{'p50 µs':>10}{'p99 µs':>10}{'max µs':>10}")
    print(
        f"{'all markets':<34}{np.percentile(costs_us, 50):>10.1f}{np.percentile(costs_us, 99):>10.1f}"
        f"{costs_us.max():>10.1f}"
    )
    print(
        f"{'naive loop from the books (peer)':<34}{np.percentile(naive_us, 50):>10.1f}"
        f"{np.percentile(naive_us, 99):>10.1f}{naive_us.max():>10.1f}"
    )
    scan_us = statistics.median(scans) / 1000.0
    print(f"{'full scan of every cycle':<34}{scan_us:>10.1f}")
    print(
        f"ratio naive / detector: p50 {np.percentile(naive_us, 50) / np.percentile(costs_us, 50):.1f}x, "
        f"p99 {np.percentile(naive_us, 99) / np.percentile(costs_us, 99):.1f}x; "
        f"full scan / detector p50 {scan_us / np.percentile(costs_us, 50):.1f}x"
    )
    print(f"opportunities found in {n:,} changes: {found:,} (target p99 <= 50 µs)")


if __name__ == "__main__":
    main()
