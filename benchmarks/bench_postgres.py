"""PostgreSQL journal writes: rows/s through the postgres sink's real path against asyncpg
``executemany`` of the same rows, in the same transaction shape, in a database created and
dropped here.

The sink: ``PostgresSink.write_batch`` (the writer thread's call) on batches of 10 000 execution
reports (the sink's default batch): events -> rows (``batch_rows``), ``COPY`` into the staging
tables, one plain ``INSERT ... SELECT`` per table (the batches are fresh; a replayed one would
fail with a unique violation and be merged with ``ON CONFLICT``), one transaction per batch.

The peers: the same ``batch_rows`` of the same events, then ``executemany`` of an
``INSERT ... VALUES`` per table with the same columns, numbers sent as float8 and cast by the
server exactly as the staging tables do -- one transaction per batch. One peer uses the sink's
strategy (plain inserts, the whole batch again with ``ON CONFLICT`` on a unique violation), the
other ``ON CONFLICT`` on every batch; the ratio is against the faster of the two. The clock runs
over the whole call in all of them, record building included.

Then the phases of sink batches (rows, COPY, plain INSERT, ``ON CONFLICT`` merge) to show where
the time goes. Needs the
server on 127.0.0.1:5432 (``.ci/run`` starts it); prints a note and exits when absent.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid

import asyncpg
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import ExecutionReport, Fill, FillStatus, Leg, Opportunity, Side
from arbot.sinks.base import RunInfo
from arbot_postgres.rows import TABLES, TableRows, batch_rows
from arbot_postgres.sink import PostgresSink, insert_sql, plain_insert_sql

SERVER = "postgresql://postgres@127.0.0.1:5432"
N_REPORTS = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000  # two trades and one episode each
BATCH = 10_000
GOAL = 100_000


def _reports(n: int, first: int) -> list[tuple[int, object]]:
    out: list[tuple[int, object]] = []
    for i in range(n):
        legs = (Leg("a", "BTC/USDT", Side.BUY, 60_000.0, 0.1), Leg("b", "BTC/USDT", Side.SELL, 60_100.0, 0.1))
        opp = Opportunity(f"o{first + i}", 1_700_000_000.0 + i, "spatial", "BTC/USDT", legs, 0.16, 0.1, 6.0)
        fills = tuple(
            Fill(opp.id, leg.venue, leg.symbol, leg.side, "IOC", 0.1, leg.price, 0.1, leg.price, 6.0, "USDT",
                 FillStatus.FILLED, opp.ts + 0.05, 50.0, "BACKTEST")
            for leg in legs
        )  # fmt: skip
        out.append((first + i + 1, ExecutionReport(opp, fills, opp.ts + 0.05, 4.0, 12.0)))
    return out


def _sink(dsn: str) -> PostgresSink:
    cfg = config_from_dict(
        {
            "output_dir": tempfile.mkdtemp(prefix="arbot-bench-pg-"),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance", "okx"]},
            "symbols": ["BTC/USDT"],
            "sinks": {"enabled": ["postgres"], "postgres": {"dsn": dsn, "batch_size": BATCH}},
        }
    )
    sink = Bot(cfg, mode="backtest").sinks[0]
    assert isinstance(sink, PostgresSink)
    return sink


def _values_sql(name: str, numeric: set[str], merge: bool) -> str:
    """The peer's statement: the sink's columns (with ``merge``, its key and conflict action),
    one row of parameters (numbers as float8, cast by the server like the staging tables)."""
    table = TABLES[name]
    cols = ", ".join(table.columns)
    params = ", ".join(
        f"${i + 1}::float8" if c in numeric else f"${i + 1}" for i, c in enumerate(table.columns)
    )
    key = ", ".join(table.key)
    sql = f"INSERT INTO {table.table} ({cols}) VALUES ({params})"
    return sql + f" ON CONFLICT ({key}) DO NOTHING" if merge else sql


async def _peer(
    dsn: str, batches: list[list[tuple[int, object]]], run: RunInfo, plain_first: bool
) -> tuple[float, int]:
    conn = await asyncpg.connect(dsn)
    found = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND data_type = 'numeric'"
    )
    numeric: dict[str, set[str]] = {}
    for r in found:
        numeric.setdefault(r["table_name"], set()).add(r["column_name"])
    names = ("trades", "episodes")
    merge_sql = {n: _values_sql(n, numeric.get(TABLES[n].table, set()), True) for n in names}
    plain_sql = {n: _values_sql(n, numeric.get(TABLES[n].table, set()), False) for n in names}
    rows_written = 0
    t0 = time.perf_counter()
    for batch in batches:
        out = batch_rows(batch, run)
        try:
            async with conn.transaction():
                for name in names:
                    await conn.executemany((plain_sql if plain_first else merge_sql)[name], out.rows[name])
        except asyncpg.UniqueViolationError:  # never in this benchmark: its batches are fresh
            async with conn.transaction():
                for name in names:
                    await conn.executemany(merge_sql[name], out.rows[name])
        rows_written += sum(len(out.rows[name]) for name in names)
    rate = rows_written / (time.perf_counter() - t0)
    await conn.close()
    return rate, rows_written


async def _count(dsn: str, run: RunInfo) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        n = 0
        for t in ("trades", "episodes"):
            n += int(await conn.fetchval(f"SELECT count(*) FROM {t} WHERE run_instance = $1", run.instance))
        return n
    finally:
        await conn.close()


def _bench(dsn: str) -> None:
    sink_rates: list[float] = []
    peer_rates: dict[bool, list[float]] = {True: [], False: []}
    phases: dict[str, list[float]] = {
        "events -> rows": [],
        "COPY into staging": [],
        "plain INSERT (fresh)": [],
        "ON CONFLICT (replay)": [],
    }
    sink = _sink(dsn)
    sink.open_store()
    first = 0
    rows_per_pass = 0
    for rep in range(3):
        # the sink
        run = RunInfo("bench", "BACKTEST", "2024-01-01T00:00:00+00:00", instance=f"sink{rep}")
        batches = [_reports(BATCH, first + k) for k in range(0, N_REPORTS, BATCH)]
        first += N_REPORTS
        t0 = time.perf_counter()
        for batch in batches:
            sink.write_batch(batch, run)
        elapsed = time.perf_counter() - t0
        stored = asyncio.run(_count(dsn, run))
        sink_rates.append(stored / elapsed)
        rows_per_pass = stored
        # the peers, on the same events under run instances of their own
        for plain_first in (True, False):
            prun = RunInfo(
                "bench", "BACKTEST", "2024-01-01T00:00:00+00:00", instance=f"peer{plain_first}{rep}"
            )
            rate, written = asyncio.run(_peer(dsn, batches, prun, plain_first))
            assert asyncio.run(_count(dsn, prun)) == written == stored
            peer_rates[plain_first].append(rate)
    # phases of one sink batch, on the sink's own connection and loop
    conn = sink._conn
    assert conn is not None
    for rep in range(3):
        run = RunInfo("bench", "BACKTEST", "2024-01-01T00:00:00+00:00", instance=f"phase{rep}")
        batch = _reports(BATCH, first)
        first += BATCH
        a = time.perf_counter()
        out = batch_rows(batch, run)
        b = time.perf_counter()

        async def copy_and_move(out: TableRows, merge: bool) -> tuple[float, float]:
            async with conn.transaction():
                c0 = time.perf_counter()
                for name in ("trades", "episodes"):
                    t = TABLES[name]
                    await conn.copy_records_to_table(
                        f"stage_{name}", records=out.rows[name], columns=t.columns
                    )
                c1 = time.perf_counter()
                for name in ("trades", "episodes"):
                    await conn.execute((insert_sql if merge else plain_insert_sql)(TABLES[name]))
                return c1 - c0, time.perf_counter() - c1

        copy_s, plain_s = sink._run_async(copy_and_move(out, False))
        merge_out = batch_rows(_reports(BATCH, first), run)  # a second fresh batch, merged
        first += BATCH
        _, merge_s = sink._run_async(copy_and_move(merge_out, True))
        n = sum(len(out.rows[t]) for t in ("trades", "episodes"))
        phases["events -> rows"].append(n / (b - a))
        phases["COPY into staging"].append(n / copy_s)
        phases["plain INSERT (fresh)"].append(n / plain_s)
        phases["ON CONFLICT (replay)"].append(n / merge_s)
    sink.close_store()
    sink_rate = statistics.median(sink_rates)
    peer_rate = max(statistics.median(r) for r in peer_rates.values())
    print(
        f"postgres: {N_REPORTS} execution reports = {rows_per_pass} rows (trades + episodes) per pass, "
        f"batches of {BATCH} events, one transaction each, median (best) of 3"
    )
    print(f"{'path':<66}{'rows/s':>22}")
    for label, rates in (
        ("sink write_batch: rows, COPY -> staging -> INSERT", sink_rates),
        ("executemany INSERT, ON CONFLICT on a unique violation (same rows)", peer_rates[True]),
        ("executemany INSERT ON CONFLICT (same rows, same transactions)", peer_rates[False]),
    ):
        print(f"{label:<66}{f'{statistics.median(rates):,.0f} ({max(rates):,.0f})':>22}")
    print("phases of a sink batch, median of 3:")
    for label, rates in phases.items():
        print(f"  {label:<24}{statistics.median(rates):>14,.0f} rows/s")
    print(f"ratio sink / faster executemany: {sink_rate / peer_rate:.1f}x (goal 5x); "
          f"sink vs {GOAL:,} rows/s: {sink_rate / GOAL:.2f}x")  # fmt: skip


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{SERVER}/postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    name = f"arbot_bench_stores_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f"CREATE DATABASE {name}"))
    except OSError as exc:
        print(f"postgres: server not reachable on 127.0.0.1:5432 ({exc}); benchmark not run")
        return
    try:
        _bench(f"{SERVER}/{name}")
    finally:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


if __name__ == "__main__":
    main()
