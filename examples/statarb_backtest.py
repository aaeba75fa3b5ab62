"""Statistical arbitrage backtest: cointegration scan + z-score pairs trading.

    python examples/statarb_backtest.py

With the shared real data present (``arbot.testing.data.shared_data_dir()``) it uses Coinbase
minute bid/ask bars of BTC/USD, ETH/USD, LTC/USD and BTC/EUR (2018-04-04..06); otherwise it
uses the seeded market simulator (BTC/USDT and ETH/USDT on three venues). Steps:

1. the vectorised Engle-Granger scan over every pair of the mid-price matrix (polars in),
   printing the pairs with p < 0.05, hedge ratio and half-life;
2. a replay of the books through ArBot's engine with the ``statistical`` detector (rolling
   re-estimation, z-score entries and exits, TRD defaults: lookback 60, entry 2.0, exit 0.5,
   p < 0.05). A small sink in this script collects the signals; each exit's estimated profit is
   the round trip's PnL at the quoted bid/ask, net of both legs' taker fees, both ways.

Signals only: a spot venue can only sell inventory it holds, so the short leg assumes the
asset is held (or a margin/perpetual market is used).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
from arbot import hookimpl
from arbot.bot import Bot
from arbot.components import Sink
from arbot.config import config_from_dict
from arbot.events import BookUpdate, SignalRecord
from arbot.testing.data import shared_data_dir
from arbot_statistical import engle_granger_scan, read_lean_quotes

QUOTES = "bars/lean_coinbase_minute_quotes_2018-04-04_06.csv.gz"
UNIFIED = {"BTCUSD": "BTC/USD", "ETHUSD": "ETH/USD", "LTCUSD": "LTC/USD", "BTCEUR": "BTC/EUR"}


class SignalCollector(Sink):
    """Keeps every signal the engine records (detect-only run: no executor)."""

    name: ClassVar[str] = "signal_collector"
    records: ClassVar[list[SignalRecord]] = []

    def emit(self, event: Any) -> None:
        if isinstance(event, SignalRecord):
            self.records.append(event)


class ExamplePlugin:
    """Registers the collector sink."""

    @hookimpl
    def arbot_register_sinks(self) -> Sequence[type[Sink]]:
        return [SignalCollector]


def real_data(path: Path) -> tuple[pl.DataFrame, list[BookUpdate]]:
    """Wide mid matrix for the scan, and one book snapshot per symbol per minute (bar close)."""
    q = read_lean_quotes(path).with_columns(pl.col("symbol").replace_strict(UNIFIED))
    mids = (
        q.with_columns(((pl.col("bid") + pl.col("ask")) / 2).alias("mid"))
        .pivot(on="symbol", index="ts", values="mid", aggregate_function="last")
        .drop_nulls()
        .sort("ts")
    )
    events = [
        BookUpdate(ts + 60.0, "coinbase", sym, np.array([[bid, 1.0]]), np.array([[ask, 1.0]]), True)
        for ts, sym, bid, ask in q.select("ts", "symbol", "bid", "ask").iter_rows()
    ]
    return mids.drop("ts"), events


def simulated(bot: Bot) -> tuple[pl.DataFrame, Iterator[Any]]:
    """Mid matrix sampled every 60 s from the simulator, and its full event stream."""
    last: dict[str, float] = {}
    rows: list[dict[str, float]] = []
    next_bar = None
    for ev in bot.source.events():
        if not isinstance(ev, BookUpdate):
            continue
        bar = ev.ts // 60.0
        if next_bar is None:
            next_bar = bar
        if bar > next_bar and len(last) == len(bot.source.venues()) * len(bot.config.symbols):
            rows.append(dict(last))
            next_bar = bar
        last[f"{ev.venue}:{ev.symbol}"] = (float(ev.bids[0][0]) + float(ev.asks[0][0])) / 2
    return pl.DataFrame(rows), bot.source.events()


def main() -> None:
    base = shared_data_dir()
    path = base / QUOTES if base is not None else None
    use_real = path is not None and path.exists()
    common: dict[str, Any] = {
        "output_dir": tempfile.mkdtemp(prefix="arbot-statarb-"),
        "system": {"execution_mode": "backtest"},
        "executor": {"name": "none"},
        "sinks": {"enabled": ["signal_collector"]},
        "risk": {"rules": []},
    }
    detector = {
        "enabled": True,
        "lookback_periods": 60,
        "entry_zscore": 2.0,
        "exit_zscore": 0.5,
        "p_value_threshold": 0.05,
        "bar_interval_s": 60.0,
        "formation_periods": 720,
        "min_formation_periods": 360,
        "reestimate_every": 60,
        "notional_usd": 10_000.0,
    }
    if use_real:
        assert path is not None
        print(f"data: real Coinbase minute quotes ({path.name})")
        mids, events_list = real_data(path)
        events: Any = iter(events_list)
        usd = ["BTC/USD", "ETH/USD", "LTC/USD"]
        cfg = config_from_dict({
            **common,
            "exchanges": {"enabled": ["coinbase"], "fees": {"coinbase": {"taker_pct": 0.25}}},
            "symbols": usd,
            "detector": {"statistical": {**detector, "universe": "cross_symbol", "venues": ["coinbase"]}},
        })
        bot = Bot(cfg, plugins=[ExamplePlugin()], mode="backtest")
    else:
        print("data: shared real data not found, using the market simulator (seed 11, 8 h)")
        cfg = config_from_dict({
            **common,
            "exchanges": {"enabled": ["binance", "okx", "bybit"]},
            "symbols": ["BTC/USDT", "ETH/USDT"],
            "backtest": {"seed": 11, "duration_s": 8 * 3600},
            "source": {"name": "simulator", "simulator": {"update_interval_ms": 1000.0}},
            "detector": {"statistical": {**detector, "universe": "both"}},
        })
        bot = Bot(cfg, plugins=[ExamplePlugin()], mode="backtest")
        mids, events = simulated(bot)

    print(f"\n1) Engle-Granger scan of {mids.width} series x {mids.height:,} bars "
          f"({mids.width * (mids.width - 1) // 2} pairs)")
    scan = engle_granger_scan(mids).sort("p_value")
    with pl.Config(tbl_rows=20, tbl_cols=10, float_precision=4, tbl_width_chars=120):
        print(scan.select("y", "x", "t_stat", "p_value", "lag", "hedge_ratio", "half_life"))
    found = scan.filter(pl.col("p_value") < 0.05)
    print(f"pairs found (p < 0.05): {found.height}: "
          + ", ".join(f"{r['y']} ~ {r['x']}" for r in found.iter_rows(named=True)))

    print("\n2) z-score strategy through the engine (rolling re-estimation)")
    SignalCollector.records.clear()
    bot.run_backtest(events=events)
    det = bot.detectors[0]
    opps = [r.opportunity for r in SignalCollector.records]
    print(f"bars sampled: {det.bars_closed:,}, estimations: {det.estimations}, "
          f"signals: {len(opps)}")
    open_entry: dict[str, Any] = {}
    trades = 0
    pnl = 0.0
    gross = 0.0
    for o in opps:
        md = o.metadata
        when = datetime.fromtimestamp(o.ts, UTC).strftime("%m-%d %H:%M")
        legs = "  ".join(f"{leg.side.value} {leg.qty:.4f} {leg.symbol}@{leg.venue} {leg.price:.2f}"
                         for leg in o.legs)
        if md["action"] == "entry":
            open_entry[md["pair"]] = o
            print(f"  {when} ENTRY {md['pair']:<34} z={md['zscore']:+.2f} p={md['p_value']:.4f}  {legs}")
        else:
            trades += 1
            pnl += o.estimated_profit
            gross += md["gross_pnl"]
            print(f"  {when} EXIT  {md['pair']:<34} z={md['zscore']:+.2f} "
                  f"gross {md['gross_pnl']:+8.2f}  net {o.estimated_profit:+8.2f} USD")
    print(f"\ncompleted round trips: {trades}, still open: {len(opps) - 2 * trades}")
    print(f"PnL of completed round trips: gross {gross:+.2f} USD, "
          f"net of taker fees {pnl:+.2f} USD")


if __name__ == "__main__":
    main()
