"""ClickHouse (chdb, in process): rows/s through the clickhouse sink's real path.

``tick_trades``: N public trades go into ``ClickHouseSink.emit`` (as the engine calls it), the
sink's writer thread batches them (``batch_size`` = 50 000, the sink's default), turns each batch
into columns and an Arrow table and inserts it with its deduplication token; the clock stops when
``close()`` returns (everything flushed), and the rows stored are counted. ``max_buffer`` is raised
above N so a burst this large is written, not spilled to disk (a spill is the store-down path).

``orderbook_snapshots`` (10 levels a side): ``write_batch`` of the sink on batches of book rows.

The input events are built first and frozen out of the garbage collector's walks (``gc.freeze``):
they stand for a stream a live engine receives one at a time, not for state the sink keeps.

Then the stages of one 50 000-trade batch, timed apart (rows -> columns, columns -> Arrow, the
chdb insert), to show where the time goes; and chdb's insert paths for that batch, timed apart
(each includes building what it reads from the batch's columns), round-robin (every path once
per round, so the load of a shared machine drifts over all alike), each into its own table with
background merges stopped, ratios against the sink's path. A temporary data folder; nothing else
is needed.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import Side, TradeTick
from arbot.sinks.base import RunInfo
from arbot_clickhouse.backends import ChdbBackend, arrow_table
from arbot_clickhouse.rows import BookRow, TradeRow, columns_of
from arbot_clickhouse.schema import TABLE_COLUMNS, create_statements
from arbot_clickhouse.sink import ClickHouseSink

N_TRADES = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
N_BOOKS = 50_000
BATCH = 50_000
GOAL_TRADES = 1_000_000


def _sink(out: Path) -> ClickHouseSink:
    cfg = config_from_dict(
        {
            "output_dir": str(out),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance", "okx"]},
            "symbols": ["BTC/USDT"],
            "sinks": {
                "enabled": ["clickhouse"],
                "clickhouse": {
                    "backend": "chdb",
                    "database": "bench",
                    "batch_size": BATCH,
                    "max_buffer": 2 * N_TRADES,
                    "flush_interval_s": 0.05,
                },
            },
        }
    )
    sink = Bot(cfg, mode="backtest").sinks[0]
    assert isinstance(sink, ClickHouseSink)
    return sink


_TRADE_TYPES = (
    "timestamp DateTime64(3), exchange LowCardinality(String), symbol LowCardinality(String), "
    "price Float64, quantity Float64, side LowCardinality(String)"
)


def _insert_paths(root: Path, names: tuple[str, ...], cols: dict[str, Any], rounds: int) -> None:
    """chdb's ways to insert one batch, each into a fresh table of its own, round-robin."""
    n = len(cols["timestamp"])
    db = ChdbBackend(root / "paths")
    trd = create_statements("paths")[-2].replace("paths.tick_trades", "paths.{t}")
    assert "TTL" in trd and "ORDER BY (exchange, symbol, timestamp)" in trd, trd
    no_ttl = "\n".join(line for line in trd.splitlines() if not line.startswith("TTL "))
    unsorted = no_ttl.replace("ORDER BY (exchange, symbol, timestamp)", "ORDER BY tuple()")
    sel = ", ".join(names)
    ipc_file = root / "paths-batch.arrow"
    tokens = iter(range(1 << 30))

    def python_fn(table: str, build: Any, settings: str = "") -> Any:
        def run() -> None:
            data = build()  # noqa: F841 -- read by chdb's Python() by name
            db.command(f"INSERT INTO paths.{table} ({sel}) SETTINGS insert_deduplication_token = "
                       f"'{next(tokens)}'{settings} SELECT {sel} FROM Python(data)")  # fmt: skip

        return run

    def dictionary_strings() -> pa.Table:
        tbl = arrow_table(names, cols)
        strings = (pa.large_string(), pa.string())
        return pa.table([c.dictionary_encode() if c.type in strings else c for c in tbl.columns],
                        names=list(names))  # fmt: skip

    def via_file() -> None:
        tbl = arrow_table(names, cols)
        with pa.OSFile(str(ipc_file), "wb") as out, ipc.new_file(out, tbl.schema) as w:
            w.write_table(tbl)
        db.command(f"INSERT INTO paths.file_arrow ({sel}) SETTINGS insert_deduplication_token = "
                   f"'{next(tokens)}' SELECT {sel} FROM file('{ipc_file}', Arrow)")  # fmt: skip

    def to_null() -> None:
        data = arrow_table(names, cols)  # noqa: F841 -- read by chdb's Python() by name
        db.command(f"INSERT INTO FUNCTION null('{_TRADE_TYPES}') SELECT {sel} FROM Python(data)")

    paths: dict[str, Any] = {
        "sink's path: ChdbBackend.insert (Arrow -> Python())": lambda: db.insert(
            "paths.sink", names, cols, f"s{next(tokens)}"
        ),
        "Arrow, strings dictionary-encoded -> Python()": python_fn("dict", dictionary_strings),
        "pandas DataFrame -> Python()": python_fn("pandas", lambda: arrow_table(names, cols).to_pandas()),
        "Arrow IPC temp file -> file(..., Arrow)": via_file,
        "sink's path, max_insert_threads = 2": python_fn(
            "threads", lambda: arrow_table(names, cols), ", max_insert_threads = 2"
        ),
        "sink's path, table without TTL": python_fn("no_ttl", lambda: arrow_table(names, cols)),
        "sink's path, ORDER BY tuple() and no TTL": python_fn("unsorted", lambda: arrow_table(names, cols)),
        "Arrow -> Python() -> null() (no part written)": to_null,
    }
    try:
        db.command("CREATE DATABASE IF NOT EXISTS paths")
        for table, ddl in (("sink", trd), ("dict", trd), ("pandas", trd), ("file_arrow", trd),
                           ("threads", trd), ("no_ttl", no_ttl), ("unsorted", unsorted)):  # fmt: skip
            db.command(ddl.format(t=table))
            db.command(f"SYSTEM STOP MERGES paths.{table}")
        for run in paths.values():  # warm-up: chdb's first Python() query in a process is slow
            run()
        rates: dict[str, list[float]] = {label: [] for label in paths}
        for _ in range(rounds):
            for label, run in paths.items():
                start = time.perf_counter()
                run()
                rates[label].append(n / (time.perf_counter() - start))
    finally:
        db.close()
    base = statistics.median(rates[next(iter(rates))])
    print(f"chdb insert paths, one {n}-trade batch from its columns, round-robin, median (best) of {rounds}:")
    for label, rs in rates.items():
        med = statistics.median(rs)
        print(f"  {label:<56}{med:>12,.0f} ({max(rs):,.0f}) rows/s  {med / base:5.2f}x")


def main() -> None:
    rng = random.Random(7)
    t0 = time.time() - 3600
    ticks = [
        TradeTick(t0 + i * 0.001, "binance" if i % 2 else "okx", "BTC/USDT", 60_000 + rng.random(),
                  rng.random(), Side.BUY if i % 3 else Side.SELL)
        for i in range(N_TRADES)
    ]  # fmt: skip
    levels = [(60_000.0 - k, 0.5 + k) for k in range(10)]
    books = [
        BookRow(i + 1, t0 + i * 0.1, "binance", "BTC/USDT", levels, levels, 60_000.0, 1.0)
        for i in range(N_BOOKS)
    ]
    # the input is the benchmark's, not the sink's: keep the collector from walking it on every
    # full collection (a live engine receives events one at a time and drops them)
    gc.collect()
    gc.freeze()
    root = Path(tempfile.mkdtemp(prefix="arbot-bench-ch-"))
    run = RunInfo("bench", "BACKTEST", "2024-01-01T00:00:00+00:00")
    e2e_rates, write_rates, book_rates = [], [], []
    stored = 0
    for rep in range(3):
        # 1) the whole sink: emit on this thread, batches written by the sink's writer thread
        sink = _sink(root / f"run{rep}")
        sink.start()
        start = time.perf_counter()
        for tick in ticks:
            sink.emit(tick)
        sink.close()
        e2e_rates.append(N_TRADES / (time.perf_counter() - start))
        stats = sink.stats()
        assert stats["written"] == N_TRADES and stats["spilled"] == 0, stats
        # 2) the writer's call alone, on the same numbered rows: batch -> columns -> Arrow -> chdb
        writer = _sink(root / f"run{rep}")
        writer.open_store()
        # plain tuples, as the sink queues them
        batch = [(N_TRADES + i + 1, t.ts, t.venue, t.symbol, t.price, t.size, t.side.value)
                 for i, t in enumerate(ticks)]  # fmt: skip
        start = time.perf_counter()
        for k in range(0, N_TRADES, BATCH):
            writer.write_batch(batch[k : k + BATCH], run)
        write_rates.append(N_TRADES / (time.perf_counter() - start))
        del batch
        # book snapshots through the same write_batch
        start = time.perf_counter()
        for k in range(0, N_BOOKS, 10_000):
            writer.write_batch(books[k : k + 10_000], run)
        book_rates.append(N_BOOKS / (time.perf_counter() - start))
        writer.close_store()
        db = ChdbBackend(root / f"run{rep}" / "clickhouse")
        try:
            stored = int(db.query("SELECT count() AS n FROM bench.tick_trades")["n"][0])
            assert stored == 2 * N_TRADES, stored  # both paths, each row once
        finally:
            db.close()
    # where the time of one batch goes
    rows = [
        TradeRow(i, t.ts, t.venue, t.symbol, t.price, t.size, t.side.value)
        for i, t in enumerate(ticks[:BATCH])
    ]
    cols_t, arrow_t, insert_t = [], [], []
    db = ChdbBackend(root / "run0" / "clickhouse")
    try:
        names = TABLE_COLUMNS["tick_trades"]
        for i in range(5):
            a = time.perf_counter()
            cols = columns_of("tick_trades", rows)
            b = time.perf_counter()
            arrow_table(names, cols)
            c = time.perf_counter()
            db.insert("bench.tick_trades", names, cols, f"stage-{i}")
            d = time.perf_counter()
            cols_t.append(b - a)
            arrow_t.append(c - b)
            insert_t.append(d - c - (c - b))  # insert() builds the Arrow table again: not counted twice
    finally:
        db.close()
    trade_rate = statistics.median(write_rates)
    print(
        f"clickhouse (chdb): the sink's path, batches of {BATCH}, median (best) of 3; rows stored: {stored}"
    )
    print(f"{'path':<60}{'rows':>10}{'rows/s':>24}")
    for label, n, rates in (
        ("tick_trades: write_batch (writer thread's call) -> chdb", N_TRADES, write_rates),
        ("tick_trades: emit -> writer thread -> chdb, until close()", N_TRADES, e2e_rates),
        ("orderbook_snapshots (10 levels a side): write_batch", N_BOOKS, book_rates),
    ):
        shown = f"{statistics.median(rates):,.0f} ({max(rates):,.0f})"
        print(f"{label:<60}{n:>10}{shown:>24}")
    print(f"stages of one {BATCH}-trade batch, median (best) of 5:")
    for name, ts in (("rows -> columns", cols_t), ("columns -> Arrow", arrow_t), ("chdb insert", insert_t)):
        print(f"  {name:<20}{BATCH / statistics.median(ts):>14,.0f} ({BATCH / min(ts):,.0f}) rows/s")
    _insert_paths(root, TABLE_COLUMNS["tick_trades"], columns_of("tick_trades", rows), 7)
    print(f"trades into chdb (write_batch) vs the 1M rows/s goal: {trade_rate / GOAL_TRADES:.2f}x")


if __name__ == "__main__":
    main()
