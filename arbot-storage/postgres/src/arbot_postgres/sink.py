"""The PostgreSQL journal sink: batches through ``COPY`` into staging tables, then one
``INSERT ... SELECT`` per table, all in one transaction per batch.

A fresh batch's rows are new, so the tables whose conflicts keep the first row (``DO NOTHING``)
get a plain ``INSERT`` first: it skips the speculative insertion of ``ON CONFLICT`` (about a
third of the server's work). A key already stored -- a replayed batch -- makes that ``INSERT``
fail with a unique violation; the transaction is rolled back and the batch written again with
``INSERT ... ON CONFLICT`` everywhere, so a plain insert that succeeded stored exactly what the
merge would have (every row new) and one that failed stored nothing. Tables whose conflicts
update a row (signals, daily results, order states) always merge: later events for a stored key
are normal for them.

It runs on the :class:`~arbot.sinks.base.BatchingSink` writer thread with an event loop of its
own (asyncpg is asynchronous; the engine's loop is never touched). While the server is down the
base class spills batches to disk and replays them, in order, once it is back; because every
row carries its key (run, instance, event number), a batch written twice — a replay after a
commit whose acknowledgement was lost — is stored once.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import asyncpg
from arbot.components import BotContext
from arbot.config import ComponentSettings
from arbot.sinks.base import BatchingSink, RunInfo

from arbot_postgres.migrate import check_version, migrate
from arbot_postgres.rows import TABLES, Table, TableRows, batch_rows, last_per_key
from arbot_postgres.settings import PostgresSettings, connect_kwargs

__all__ = ["PostgresSink", "create_stages", "insert_sql", "plain_insert_sql", "stage_sql"]


def plain_insert_sql(table: Table) -> str:
    """The statement moving a fresh batch from ``table``'s staging table into its target table
    without a conflict clause: it fails (unique violation) when any key is already stored."""
    cols = ", ".join(table.columns)
    return f"INSERT INTO {table.table} ({cols}) SELECT {cols} FROM stage_{table.name}"


def insert_sql(table: Table) -> str:
    """The statement merging a batch from ``table``'s staging table into its target table."""
    key = ", ".join(table.key)
    sql = f"{plain_insert_sql(table)} ON CONFLICT ({key}) "
    if not table.update:
        return sql + "DO NOTHING"
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in table.update)
    sql += f"DO UPDATE SET {sets}"
    if table.seq_column is not None:
        sql += f" WHERE {table.table}.{table.seq_column} < EXCLUDED.{table.seq_column}"
    return sql


def stage_sql(table: Table, numeric: set[str]) -> str:
    """The temporary staging table of ``table``: its columns, with ``numeric`` ones as
    ``float8`` (asyncpg encodes a Python float as float8 some 20 times faster than as
    numeric; the server casts to the DECIMAL column on the INSERT)."""
    cols = ", ".join(f"{c}::float8 AS {c}" if c in numeric else c for c in table.columns)
    return (
        f"CREATE TEMP TABLE IF NOT EXISTS stage_{table.name} ON COMMIT DELETE ROWS AS "
        f"SELECT {cols} FROM {table.table} WITH NO DATA"
    )


async def create_stages(conn: asyncpg.Connection) -> None:
    """Create every staging table on ``conn`` (temporary tables live per connection)."""
    found = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND data_type = 'numeric'"
    )
    numeric: dict[str, set[str]] = {}
    for r in found:
        numeric.setdefault(r["table_name"], set()).add(r["column_name"])
    for table in TABLES.values():
        await conn.execute(stage_sql(table, numeric.get(table.table, set())))


class PostgresSink(BatchingSink):
    """Journal of signals, trades, episodes, balances, daily results and orders in PostgreSQL."""

    name: ClassVar[str] = "postgres"
    description: ClassVar[str] = "PostgreSQL journal (TRD §4.1 schema, COPY batches, idempotent replay)"
    Settings: ClassVar[type[ComponentSettings]] = PostgresSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self._seq = 0
        self._aio: asyncio.AbstractEventLoop | None = None
        self._conn: asyncpg.Connection | None = None
        self._known_runs: set[tuple[str, str]] = set()

    def emit(self, event: Any) -> None:
        """Enqueue one event with its number in this run (the key of its rows)."""
        self._seq += 1
        super().emit((self._seq, event))

    # -- writer thread ------------------------------------------------------------------

    def _run_async(self, coro: Any) -> Any:
        if self._aio is None:
            self._aio = asyncio.new_event_loop()
        return self._aio.run_until_complete(coro)

    async def _connect(self) -> asyncpg.Connection:
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        self._conn = None
        self._known_runs.clear()
        conn = await asyncpg.connect(**connect_kwargs(self.settings))  # type: ignore[arg-type]
        try:
            if self.settings.auto_migrate:
                await migrate(conn)
            await check_version(conn)
            await create_stages(conn)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        return conn

    def open_store(self) -> None:
        """Connect, migrate (``auto_migrate``) or check the schema version, record the venues."""
        self._run_async(self._open())

    async def _open(self) -> None:
        conn = await self._connect()
        cfg = self.ctx.config
        fees = cfg.exchanges.fees
        rows = []
        for venue in cfg.exchanges.enabled:
            fee = fees.get(venue, cfg.exchanges.default_fee)
            rows.append((venue, fee.maker_pct, fee.taker_pct))
        if rows:
            await conn.executemany(
                "INSERT INTO exchanges (name, maker_fee_pct, taker_fee_pct) VALUES ($1, $2, $3) "
                "ON CONFLICT (name) DO UPDATE SET maker_fee_pct = EXCLUDED.maker_fee_pct, "
                "taker_fee_pct = EXCLUDED.taker_fee_pct",
                rows,
            )

    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        """COPY the batch's rows into staging tables and move them on, in one transaction."""
        self._run_async(self._write(batch, run))

    async def _write(self, batch: list[Any], run: RunInfo) -> None:
        conn = await self._connect()
        out = batch_rows(batch, run)
        try:
            try:
                written = await self._store(conn, out, run, fresh=True)
            except asyncpg.UniqueViolationError:
                # A key of this batch is stored already (a replay): the transaction is rolled
                # back; merge the whole batch instead.
                self.counters["batches_merged"] += 1
                written = await self._store(conn, out, run, fresh=False)
        except BaseException:
            # A broken connection is not always marked closed: start afresh on the next try.
            conn.terminate()
            self._conn = None
            raise
        for table, n in written.items():
            self.counters[f"rows:{table}"] += n
        self._known_runs.add((run.run_id, run.instance))
        if out.out_of_range:
            self.counters["values_out_of_range"] += out.out_of_range

    async def _store(
        self, conn: asyncpg.Connection, out: TableRows, run: RunInfo, *, fresh: bool
    ) -> dict[str, int]:
        """Write ``out`` in one transaction; ``fresh``: plain inserts where the first row wins.
        Returns the rows written per table (counted by the caller once committed)."""
        written: dict[str, int] = {}
        async with conn.transaction():
            if (run.run_id, run.instance) not in self._known_runs:
                await conn.execute(
                    "INSERT INTO runs (run_id, run_instance, started_at, execution_mode, config_file) "
                    "VALUES ($1, $2, $3::text::timestamptz, $4, $5) ON CONFLICT DO NOTHING",
                    run.run_id,
                    run.instance,
                    run.started_at,
                    run.mode,
                    run.config_file,
                )
            for name, rows in out.rows.items():
                if not rows:
                    continue
                table = TABLES[name]
                if table.update:
                    rows = last_per_key(table, rows)
                await conn.copy_records_to_table(f"stage_{name}", records=rows, columns=table.columns)
                sql = plain_insert_sql(table) if fresh and not table.update else insert_sql(table)
                status = await conn.execute(sql)
                written[table.table] = written.get(table.table, 0) + int(status.rsplit(" ", 1)[-1])
        return written

    def close_store(self) -> None:
        """Close the connection and the writer's event loop."""
        if self._aio is None:
            return
        if self._conn is not None:
            self._run_async(self._conn.close(timeout=5))
            self._conn = None
        self._aio.close()
        self._aio = None
