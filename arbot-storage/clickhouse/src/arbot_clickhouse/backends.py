"""Two ways to reach ClickHouse behind one interface: chdb (ClickHouse's engine in this process,
data in a local folder) and clickhouse-connect (a ClickHouse server over HTTP).

Data crosses the interface column-wise: ``{column: [values]}``; ``DateTime64`` columns are
given and returned as epoch seconds (floats), book sides as lists of ``(price, qty)``.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl
from arbot.errors import ArbotError
from pydantic import SecretStr

__all__ = ["ChdbBackend", "ClickHouseBackend", "Columns", "HttpBackend"]

Columns = dict[str, list[Any]]

_LEVELS = pl.List(pl.Struct({"price": pl.Float64, "qty": pl.Float64}))


class ClickHouseBackend(Protocol):
    """What the sink and the source need from ClickHouse."""

    def command(self, sql: str) -> None:
        """Run a statement that returns nothing (DDL)."""

    def insert(self, table: str, columns: tuple[str, ...], data: Columns, token: str) -> None:
        """Insert rows; a second insert with the same ``token`` is deduplicated by the server."""

    def query(self, sql: str) -> Columns:
        """Run a query; its result column-wise (DateTime64 as epoch seconds)."""

    def close(self) -> None:
        """Release the connection or session."""


class _ChdbSessions:
    """chdb allows one data folder per process: sessions are shared per folder and counted."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.open: dict[Path, tuple[Any, int]] = {}

    def acquire(self, path: Path) -> Any:
        import chdb.session

        with self.lock:
            if path in self.open:
                session, n = self.open[path]
                self.open[path] = (session, n + 1)
                return session
            if self.open:
                other = next(iter(self.open))
                raise ArbotError(f"chdb is already open on {other} in this process; cannot also open {path}")
            path.mkdir(parents=True, exist_ok=True)
            session = chdb.session.Session(str(path))
            self.open[path] = (session, 1)
            return session

    def release(self, path: Path) -> None:
        with self.lock:
            session, n = self.open[path]
            if n > 1:
                self.open[path] = (session, n - 1)
                return
            del self.open[path]
            session.close()


_SESSIONS = _ChdbSessions()


def _levels_series(name: str, sides: list[Any]) -> pl.Series:
    """Book sides (lists of (price, qty)) as a List(Struct(price, qty)) column, built from flat
    columns instead of one dict per level."""
    lengths = [len(side) for side in sides]
    rows = np.repeat(np.arange(len(sides), dtype=np.int64), lengths)
    flat = np.array([lvl for side in sides for lvl in side], dtype=np.float64).reshape(-1, 2)
    levels = pl.DataFrame({"row": rows, "price": flat[:, 0], "qty": flat[:, 1]})
    grouped = levels.group_by("row", maintain_order=True).agg(pl.struct("price", "qty").alias(name))
    every = pl.DataFrame({"row": np.arange(len(sides), dtype=np.int64)})
    joined = every.join(grouped, on="row", how="left", maintain_order="left")
    return joined[name].fill_null(pl.lit([], dtype=_LEVELS)).cast(_LEVELS)


def _frame(columns: tuple[str, ...], data: Columns) -> pl.DataFrame:
    series = []
    for name in columns:
        values = data[name]
        if name == "timestamp":
            ms = pl.Series(name, values, dtype=pl.Float64) * 1000.0
            series.append(ms.round(0).cast(pl.Int64).cast(pl.Datetime("ms", "UTC")))
        elif name in ("bids", "asks"):
            series.append(_levels_series(name, values))
        else:
            series.append(pl.Series(name, values))
    return pl.DataFrame(series)


class ChdbBackend:
    """ClickHouse's engine in process (chdb), its data in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        self._session = _SESSIONS.acquire(self.path)

    def command(self, sql: str) -> None:
        """Run a statement."""
        with _SESSIONS.lock:
            self._session.query(sql)

    def insert(self, table: str, columns: tuple[str, ...], data: Columns, token: str) -> None:
        """Insert an Arrow table with ``INSERT ... SELECT ... FROM Python(arbot_rows)``.

        Not chdb's streaming ``send_insert``: when the part cannot be written (a read-only or
        full data folder) that one reports the rows as written and raises nothing, so a batch
        would be lost silently. A plain query raises the engine's error, and the batch is
        retried, spilled and replayed by the sink.
        """
        arbot_rows = _frame(columns, data).to_arrow()  # noqa: F841 -- read by chdb's Python() by name
        cols = ", ".join(columns)
        sql = (
            f"INSERT INTO {table} ({cols}) SETTINGS insert_deduplication_token = '{_quote(token)}' "
            f"SELECT {cols} FROM Python(arbot_rows)"
        )
        with _SESSIONS.lock:
            self._session.query(sql)

    def query(self, sql: str) -> Columns:
        """Run a query, read its Arrow result."""
        with _SESSIONS.lock:
            raw = self._session.query(sql, "ArrowStream").bytes()
        if not raw:
            return {}
        frame = pl.read_ipc_stream(io.BytesIO(raw))
        out: Columns = {}
        for name, s in zip(frame.columns, frame.iter_columns(), strict=True):
            if isinstance(s.dtype, pl.Datetime):
                out[name] = (s.dt.epoch("ms").cast(pl.Float64) / 1000.0).to_list()
            else:
                out[name] = s.to_list()
        return out

    def close(self) -> None:
        """Release the shared session (closed with its last user)."""
        _SESSIONS.release(self.path)


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


class HttpBackend:
    """A ClickHouse server through clickhouse-connect (HTTP interface)."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: SecretStr | None,
        *,
        secure: bool = False,
        connect_timeout_s: float = 5.0,
    ) -> None:
        import clickhouse_connect

        self._client = clickhouse_connect.get_client(
            host=host,
            port=port,
            username=username,
            password=password.get_secret_value() if password is not None else "",
            secure=secure,
            connect_timeout=connect_timeout_s,
            compress=False,
            autogenerate_session_id=False,
        )

    def command(self, sql: str) -> None:
        """Run a statement."""
        self._client.command(sql)

    def insert(self, table: str, columns: tuple[str, ...], data: Columns, token: str) -> None:
        """Insert column-wise (clickhouse-connect sends the Native format)."""
        cols = []
        for name in columns:
            values = data[name]
            if name == "timestamp":
                values = [dt.datetime.fromtimestamp(v, dt.UTC) for v in values]
            cols.append(values)
        self._client.insert(
            table,
            cols,
            column_names=list(columns),
            column_oriented=True,
            settings={"insert_deduplication_token": token},
        )

    def query(self, sql: str) -> Columns:
        """Run a query column-wise."""
        result = self._client.query(sql)
        out: Columns = {}
        for name, values in zip(result.column_names, result.result_columns, strict=True):
            if values and isinstance(values[0], dt.datetime):
                out[name] = [v.replace(tzinfo=v.tzinfo or dt.UTC).timestamp() for v in values]
            else:
                out[name] = list(values)
        if not out:
            out = {name: [] for name in result.column_names}
        return out

    def close(self) -> None:
        """Close the HTTP pool."""
        self._client.close()
