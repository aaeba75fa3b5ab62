"""PostgreSQL journal writes: rows/s through COPY (the postgres sink's path: COPY into a staging
table, then one INSERT ... ON CONFLICT) against asyncpg ``executemany`` of the same
INSERT ... ON CONFLICT, on the same trade rows, in a database created and dropped here.

Needs the server on 127.0.0.1:5432 (``.ci/run`` starts it); prints a note and exits when absent.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid

import asyncpg
from arbot.events import ExecutionReport, Fill, FillStatus, Leg, Opportunity, Side
from arbot.sinks.base import RunInfo
from arbot_postgres.migrate import migrate
from arbot_postgres.rows import TABLES, batch_rows
from arbot_postgres.sink import create_stages, insert_sql

SERVER = "postgresql://postgres@127.0.0.1:5432"
N_REPORTS = 25_000  # two fills each: 50 000 trade rows


def _reports(n: int) -> list[tuple[int, object]]:
    out: list[tuple[int, object]] = []
    for i in range(n):
        legs = (Leg("a", "BTC/USDT", Side.BUY, 60_000.0, 0.1), Leg("b", "BTC/USDT", Side.SELL, 60_100.0, 0.1))
        opp = Opportunity(f"o{i}", 1_700_000_000.0 + i, "spatial", "BTC/USDT", legs, 0.16, 0.1, 6.0)
        fills = tuple(
            Fill(opp.id, leg.venue, leg.symbol, leg.side, "IOC", 0.1, leg.price, 0.1, leg.price, 6.0, "USDT",
                 FillStatus.FILLED, opp.ts + 0.05, 50.0, "BACKTEST")
            for leg in legs
        )  # fmt: skip
        out.append((i + 1, ExecutionReport(opp, fills, opp.ts + 0.05, 4.0, 12.0)))
    return out


async def _bench(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    await migrate(conn)
    table = TABLES["trades"]
    await create_stages(conn)
    rows = batch_rows(_reports(N_REPORTS), RunInfo("bench", "BACKTEST", "2024-01-01T00:00:00+00:00")).rows
    trades = rows["trades"]
    cols = ", ".join(table.columns)
    params = ", ".join(f"${i + 1}" for i in range(len(table.columns)))
    direct = f"INSERT INTO trades ({cols}) VALUES ({params}) ON CONFLICT ({', '.join(table.key)}) DO NOTHING"

    async def copy_path() -> float:
        await conn.execute("TRUNCATE trades")
        t0 = time.perf_counter()
        for start in range(0, len(trades), 10_000):  # the sink's default batch size
            async with conn.transaction():
                part = trades[start : start + 10_000]
                await conn.copy_records_to_table("stage_trades", records=part, columns=table.columns)
                await conn.execute(insert_sql(table))
        return len(trades) / (time.perf_counter() - t0)

    async def executemany_path() -> float:
        await conn.execute("TRUNCATE trades")
        t0 = time.perf_counter()
        for start in range(0, len(trades), 10_000):
            async with conn.transaction():
                await conn.executemany(direct, trades[start : start + 10_000])
        return len(trades) / (time.perf_counter() - t0)

    async def direct_copy_path() -> float:
        await conn.execute("TRUNCATE trades")
        t0 = time.perf_counter()
        for start in range(0, len(trades), 10_000):
            async with conn.transaction():
                part = trades[start : start + 10_000]
                await conn.copy_records_to_table("trades", records=part, columns=table.columns)
        return len(trades) / (time.perf_counter() - t0)

    direct_rates = [await direct_copy_path() for _ in range(3)]
    copy_rates = [await copy_path() for _ in range(3)]
    many_rates = [await executemany_path() for _ in range(3)]
    stored = await conn.fetchval("SELECT count(*) FROM trades")
    await conn.close()
    copy_rate = statistics.median(copy_rates)
    many_rate = statistics.median(many_rates)
    print(f"postgres: {len(trades)} trade rows, batches of 10 000, one transaction each, median of 3")
    print(f"{'path':<52}{'rows/s':>12}")
    print(f"{'COPY -> staging -> INSERT ON CONFLICT (the sink)':<52}{copy_rate:>12,.0f}")
    print(f"{'COPY straight into trades':<52}{statistics.median(direct_rates):>12,.0f}")
    print(f"{'executemany INSERT ON CONFLICT':<52}{many_rate:>12,.0f}")
    print(f"ratio COPY / executemany: {copy_rate / many_rate:.1f}x (rows stored per pass: {stored})")


async def main() -> None:
    name = f"arbot_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(f"{SERVER}/postgres", timeout=5)
    except OSError as exc:
        print(f"postgres: server not reachable on 127.0.0.1:5432 ({exc}); benchmark not run")
        return
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        await _bench(f"{SERVER}/{name}")
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
