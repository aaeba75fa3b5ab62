"""Two ways to reach ClickHouse behind one interface: chdb (ClickHouse's engine in this process,
data in a local folder) and clickhouse-connect (a ClickHouse server over HTTP).

Data crosses the interface column-wise: ``{column: [values]}``; ``DateTime64`` columns are
given and returned as epoch seconds (floats), book sides as lists of ``(price, qty)``.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl
import pyarrow as pa
from arbot.errors import ArbotError
from pydantic import SecretStr

__all__ = ["ChdbBackend", "ClickHouseBackend", "Columns", "HttpBackend", "arrow_table"]

Columns = dict[str, Sequence[Any]]


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


def _levels_array(sides: Sequence[Any]) -> pa.Array:
    """Book sides (lists of (price, qty)) as a List(Struct(price, qty)) Arrow column, built from
    flat NumPy arrays and offsets instead of one Python object per level."""
    lengths = np.fromiter((len(side) for side in sides), dtype=np.int32, count=len(sides))
    offsets = np.zeros(len(sides) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.array([lvl for side in sides for lvl in side], dtype=np.float64).reshape(-1, 2)
    struct = pa.StructArray.from_arrays([pa.array(flat[:, 0]), pa.array(flat[:, 1])], fields=[_PRICE, _QTY])
    return pa.ListArray.from_arrays(pa.array(offsets), struct)


_PRICE = pa.field("price", pa.float64(), nullable=False)
_QTY = pa.field("qty", pa.float64(), nullable=False)


def _arrow_column(name: str, values: Sequence[Any]) -> pa.Array:
    if name == "timestamp":
        ms = pl.Series(name, values, dtype=pl.Float64) * 1000.0
        return ms.round(0).cast(pl.Int64).cast(pl.Datetime("ms", "UTC")).to_arrow()
    if name in ("bids", "asks"):
        return _levels_array(values)
    return pl.Series(name, values).to_arrow()


def arrow_table(columns: tuple[str, ...], data: Columns) -> pa.Table:
    """The columns as an Arrow table: ``timestamp`` (epoch seconds) as milliseconds UTC, book
    sides as lists of (price, qty) structs built from flat arrays, the rest through polars."""
    return pa.table([_arrow_column(name, data[name]) for name in columns], names=list(columns))


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
        retried, spilled and replayed by the sink. Of the paths that raise, this one measured
        fastest (benchmarks/bench_clickhouse.py: pandas through ``Python()`` and an Arrow file
        through ``file()`` were slower, dictionary-encoded strings no faster once encoded).
        """
        arbot_rows = arrow_table(columns, data)  # noqa: F841 -- read by chdb's Python() by name
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
