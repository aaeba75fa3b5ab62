"""ClickHouse (chdb, in process): rows/s of tick_trades inserts through the sink's backend
(columns -> Arrow IPC -> chdb streaming insert), and of book snapshots of 10 levels a side.

A temporary data folder; nothing else is needed. Prints rows/s and the trades goal ratio.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from arbot_clickhouse.backends import ChdbBackend
from arbot_clickhouse.rows import BookRow, TradeRow, columns_of
from arbot_clickhouse.schema import TABLE_COLUMNS, create_statements

N_TRADES = 1_000_000
N_BOOKS = 50_000
GOAL_TRADES = 1_000_000


def main() -> None:
    rng = random.Random(7)
    t0 = time.time() - 3600
    trades = [
        TradeRow(
            t0 + i * 0.001,
            "binance" if i % 2 else "okx",
            "BTC/USDT",
            60_000 + rng.random(),
            rng.random(),
            "buy",
        )
        for i in range(N_TRADES)
    ]
    levels = [(60_000.0 - k, 0.5 + k) for k in range(10)]
    books = [
        BookRow(t0 + i * 0.1, "binance", "BTC/USDT", levels, levels, 60_000.0, 1.0) for i in range(N_BOOKS)
    ]
    trade_cols = columns_of("tick_trades", trades)
    book_cols = columns_of("orderbook_snapshots", books)
    backend = ChdbBackend(Path(tempfile.mkdtemp(prefix="arbot-bench-ch-")))
    try:
        for sql in create_statements("bench"):
            backend.command(sql)
        trade_rates, book_rates = [], []
        for i in range(3):
            start = time.perf_counter()
            backend.insert("bench.tick_trades", TABLE_COLUMNS["tick_trades"], trade_cols, f"t{i}")
            trade_rates.append(N_TRADES / (time.perf_counter() - start))
            start = time.perf_counter()
            backend.insert(
                "bench.orderbook_snapshots", TABLE_COLUMNS["orderbook_snapshots"], book_cols, f"b{i}"
            )
            book_rates.append(N_BOOKS / (time.perf_counter() - start))
        stored = backend.query("SELECT count() AS n FROM bench.tick_trades")["n"][0]
    finally:
        backend.close()
    trade_rate, book_rate = statistics.median(trade_rates), statistics.median(book_rates)
    print(f"clickhouse (chdb): one insert per batch, median of 3 (trades stored: {stored})")
    print(f"{'table':<40}{'rows/batch':>12}{'rows/s':>14}")
    print(f"{'tick_trades':<40}{N_TRADES:>12}{trade_rate:>14,.0f}")
    print(f"{'orderbook_snapshots (10 levels a side)':<40}{N_BOOKS:>12}{book_rate:>14,.0f}")
    print(f"trades vs the 1M rows/s goal: {trade_rate / GOAL_TRADES:.2f}x")


if __name__ == "__main__":
    main()
