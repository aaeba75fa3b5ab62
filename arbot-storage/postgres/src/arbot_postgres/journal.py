"""The execution layer's write-ahead journal in PostgreSQL (``[executor] journal = "postgres"``).

:class:`PostgresJournal` implements :class:`arbot.execution.journal.JournalStore`: the order
manager writes an order's intent through it before the request leaves, and every transition
after it; restart reconciliation reads the open orders and episodes back.

Why a blocking call: the journal protocol is synchronous (the order manager calls
``put_order`` and sends the order on the next line), and the promise is that the intent is
*committed* before the order leaves. Each write is therefore one autocommitted statement whose
call returns only after the server acknowledged the commit, with ``synchronous_commit = on``
forced for the session (a server configured with it off would acknowledge before the WAL
reaches disk). The connection is asyncpg's, owned by a private thread running its own event
loop; a caller blocks on that thread's answer. The engine's event loop is paused for the
round trip exactly as the embedded SQLite journal pauses it for its ``fsync``.

A write that fails -- server down, connection cut, timeout -- raises
:class:`~arbot.execution.journal.JournalError` and is never retried inside the call: its commit
may or may not have happened, and only a reconciliation decides. The connection is dropped and
the next call connects again (the server may be back by then).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from arbot.errors import ArbotError
from arbot.execution.journal import (
    EpisodeRecord,
    JournalError,
    OrderRecord,
    Transition,
    fill_from_row,
    fill_row,
    order_from_row,
    order_row,
)
from arbot.trading.types import Fill

from arbot_postgres.migrate import check_version, migrate
from arbot_postgres.settings import PostgresSettings, connect_kwargs

__all__ = ["PostgresJournal"]

T = TypeVar("T")

_ORDER_COLS = (
    "client_id, episode_id, purpose, venue, symbol, side, order_type, time_in_force, quantity, price,"
    " status, ts, order_id, filled, cost, fee"
)
_PUT_ORDER = (
    f"INSERT INTO exec_orders (scope, {_ORDER_COLS}) VALUES "
    "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)"
    " ON CONFLICT (scope, client_id) DO UPDATE SET "
    + ", ".join(f"{c.strip()} = EXCLUDED.{c.strip()}" for c in _ORDER_COLS.split(",")[1:])
)
_PUT_FILL = (
    "INSERT INTO exec_fills (scope, venue, trade_id, symbol, order_id, client_id, episode_id, side, price,"
    " quantity, fee, fee_asset, ts, is_maker) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
    " ON CONFLICT (scope, venue, trade_id) DO NOTHING"
)
_PUT_EPISODE = (
    "INSERT INTO exec_episodes (scope, episode_id, opportunity_id, strategy, state, reason, ts,"
    " expected_pnl_usd) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (scope, episode_id) DO UPDATE SET"
    " opportunity_id = EXCLUDED.opportunity_id, strategy = EXCLUDED.strategy, state = EXCLUDED.state,"
    " reason = EXCLUDED.reason, ts = EXCLUDED.ts, expected_pnl_usd = EXCLUDED.expected_pnl_usd"
)
_LOG = "INSERT INTO exec_transitions (scope, ts, entity, key, state, reason) VALUES ($1,$2,$3,$4,$5,$6)"


class PostgresJournal:
    """A :class:`~arbot.execution.journal.JournalStore` in PostgreSQL: every write committed
    (``synchronous_commit = on``) before the call returns; ``scope`` names this bot's journal.

    Opening connects, applies missing migrations (``auto_migrate``) or checks the schema version
    -- a database newer than this code is refused -- and fails with
    :class:`~arbot.execution.journal.JournalError` when the server cannot be reached.
    """

    def __init__(self, settings: PostgresSettings, scope: str) -> None:
        self.settings = settings
        self.scope = scope
        #: a call waits at most this long for the journal thread (connect + statement + slack)
        self._wait_s = settings.connect_timeout_s + settings.command_timeout_s + 5.0
        self._conn: asyncpg.Connection | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="arbot-pg-journal", daemon=True)
        self._thread.start()
        self._closed = False

        async def opened(conn: asyncpg.Connection) -> None:
            return None

        try:
            self._call(opened, "open")
        except JournalError:
            self._stop_thread()
            raise

    # -- the journal thread -----------------------------------------------------------------

    async def _connect(self) -> asyncpg.Connection:
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        self._conn = None
        kwargs = connect_kwargs(self.settings)
        kwargs["server_settings"] = {"synchronous_commit": "on", "application_name": "arbot-journal"}
        new = await asyncpg.connect(**kwargs)  # type: ignore[arg-type]
        try:
            if self.settings.auto_migrate:
                await migrate(new)
            await check_version(new)
        except BaseException:
            await new.close()
            raise
        self._conn = new
        return new

    def _call(self, action: Callable[[asyncpg.Connection], Awaitable[T]], what: str) -> T:
        """Run ``action`` on the journal thread's connection; block until it is done."""
        if self._closed:
            raise JournalError(f"the PostgreSQL execution journal is closed ({what})")

        async def run() -> T:
            conn = await self._connect()
            try:
                return await action(conn)
            except BaseException:
                # the outcome of a statement cut short is unknown: never reuse that connection
                conn.terminate()
                self._conn = None
                raise

        fut = asyncio.run_coroutine_threadsafe(run(), self._loop)
        try:
            return fut.result(timeout=self._wait_s)
        except concurrent.futures.TimeoutError as exc:
            fut.cancel()
            raise JournalError(
                f"execution journal {self.settings.dsn} ({what}): no answer within {self._wait_s:.0f} s"
            ) from exc
        except JournalError:
            raise
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise JournalError(
                f"cannot {what} the execution journal {self.settings.dsn}: {type(exc).__name__}: {exc}"
            ) from exc
        except ArbotError as exc:  # the schema is newer (or older, without auto_migrate) than this code
            raise JournalError(f"execution journal {self.settings.dsn}: {exc}") from exc

    def _execute(self, sql: str, *args: Any) -> str:
        async def go(conn: asyncpg.Connection) -> str:
            return str(await conn.execute(sql, *args))

        return self._call(go, "write")

    def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async def go(conn: asyncpg.Connection) -> list[asyncpg.Record]:
            return list(await conn.fetch(sql, *args))

        return self._call(go, "read")

    # -- JournalStore -----------------------------------------------------------------------

    def put_order(self, order: OrderRecord) -> None:
        """Insert or replace one order, committed before returning."""
        self._execute(_PUT_ORDER, self.scope, *order_row(order))

    def put_fill(self, fill: Fill, episode_id: str) -> bool:
        """Insert unless (venue, trade id) is journaled; committed before returning."""
        status = self._execute(_PUT_FILL, self.scope, *fill_row(fill, episode_id))
        return status.endswith(" 1")

    def put_episode(self, episode: EpisodeRecord) -> None:
        """Insert or replace one episode, committed before returning."""
        e = episode
        self._execute(
            _PUT_EPISODE,
            self.scope,
            e.episode_id,
            e.opportunity_id,
            e.strategy,
            e.state,
            e.reason,
            e.ts,
            e.expected_pnl_usd,
        )

    def log(self, transition: Transition) -> None:
        """Append one transition, committed before returning."""
        t = transition
        self._execute(_LOG, self.scope, t.ts, t.entity, t.key, t.state, t.reason)

    def set_flag(self, name: str, value: str | None) -> None:
        """Set or clear a flag, committed before returning."""
        if value is None:
            self._execute("DELETE FROM exec_flags WHERE scope = $1 AND name = $2", self.scope, name)
        else:
            self._execute(
                "INSERT INTO exec_flags (scope, name, value) VALUES ($1, $2, $3) "
                "ON CONFLICT (scope, name) DO UPDATE SET value = EXCLUDED.value",
                self.scope,
                name,
                value,
            )

    def flags(self) -> dict[str, str]:
        """Every flag that is set."""
        rows = self._fetch("SELECT name, value FROM exec_flags WHERE scope = $1 ORDER BY name", self.scope)
        return {r["name"]: r["value"] for r in rows}

    def orders(self, open_only: bool = False) -> list[OrderRecord]:
        """Orders in the order their intents were written (or only those not terminal)."""
        rows = self._fetch(f"SELECT {_ORDER_COLS} FROM exec_orders WHERE scope = $1 ORDER BY n", self.scope)
        out = [order_from_row(tuple(r)) for r in rows]
        return [o for o in out if not (open_only and o.status.is_terminal)]

    def episodes(self, open_only: bool = False) -> list[EpisodeRecord]:
        """Episodes in the order they were first written (or only the open ones)."""
        rows = self._fetch(
            "SELECT episode_id, opportunity_id, strategy, state, reason, ts, expected_pnl_usd "
            "FROM exec_episodes WHERE scope = $1 ORDER BY n",
            self.scope,
        )
        out = [EpisodeRecord(*r) for r in rows]
        return [e for e in out if not (open_only and not e.is_open)]

    def fills(self) -> list[Fill]:
        """Every fill, in the order written."""
        rows = self._fetch(
            "SELECT venue, symbol, order_id, client_id, trade_id, side, price, quantity, fee, fee_asset, ts,"
            " is_maker FROM exec_fills WHERE scope = $1 ORDER BY n",
            self.scope,
        )
        return [fill_from_row(tuple(r)) for r in rows]

    def transitions(self, key: str | None = None) -> list[Transition]:
        """The transition log (of one order or episode), in order."""
        sql = "SELECT ts, entity, key, state, reason FROM exec_transitions WHERE scope = $1"
        rows = (
            self._fetch(sql + " ORDER BY n", self.scope)
            if key is None
            else self._fetch(sql + " AND key = $2 ORDER BY n", self.scope, key)
        )
        return [Transition(*r) for r in rows]

    def needs_flush(self) -> bool:
        """Never: each write returns only after PostgreSQL committed it with ``synchronous_commit =
        on`` (on the server's disk), so an intent is durable before its request can leave."""
        return False

    def sync(self) -> None:
        """Nothing to do: every write is already durable when its call returns."""

    def close(self) -> None:
        """Close the connection and stop the journal thread (every write is already committed)."""
        if self._closed:
            return
        self._closed = True
        conn = self._conn
        if conn is not None and not conn.is_closed():
            fut = asyncio.run_coroutine_threadsafe(conn.close(timeout=5), self._loop)
            try:
                fut.result(timeout=10)
            except Exception:  # closing a dead connection: nothing left to flush
                conn.terminate()
        self._conn = None
        self._stop_thread()

    def _stop_thread(self) -> None:
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()
