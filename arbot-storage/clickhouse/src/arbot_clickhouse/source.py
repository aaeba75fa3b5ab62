"""History from ClickHouse back into a backtest: ``[source] name = "clickhouse"`` reads
``orderbook_snapshots`` (each row a full-book update) and ``tick_trades`` for a time range,
venues and symbols, in time order, so recorded data runs through the same engine."""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections.abc import Iterator
from typing import Any, ClassVar

from arbot.components import BotContext, MarketEvent, Source
from arbot.config import ComponentSettings
from arbot.errors import ConfigError
from arbot.events import BookUpdate, Side, TradeTick
from pydantic import Field

from arbot_clickhouse.backends import ClickHouseBackend, Columns
from arbot_clickhouse.settings import ClickHouseConnection, open_backend

__all__ = ["ClickHouseSource", "ClickHouseSourceSettings"]


class ClickHouseSourceSettings(ClickHouseConnection):
    """``[source.clickhouse]``: the connection (``path`` relative to the config file) and the
    slice of history to replay."""

    start: dt.datetime | None = Field(None, description="first timestamp (ISO 8601, UTC if naive)")
    end: dt.datetime | None = Field(None, description="end of the range (exclusive)")
    venues: list[str] | None = Field(None, description="only these exchanges (default: all recorded)")
    symbols: list[str] | None = Field(None, description="only these unified symbols")
    trades: bool = Field(True, description="replay tick_trades as well as book snapshots")
    chunk_s: float = Field(3600.0, gt=0, description="seconds of history read per query")


def _epoch(t: dt.datetime | None) -> float | None:
    if t is None:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).timestamp()


def _quoted(values: list[str]) -> str:
    return ", ".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)


class ClickHouseSource(Source):
    """Book snapshots and trades recorded by the ``clickhouse`` sink, replayed in time order."""

    name: ClassVar[str] = "clickhouse"
    description: ClassVar[str] = "history from ClickHouse (orderbook_snapshots, tick_trades)"
    Settings: ClassVar[type[ComponentSettings]] = ClickHouseSourceSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        start, end = _epoch(settings.start), _epoch(settings.end)
        if start is not None and end is not None and end <= start:
            raise ConfigError(
                f"source.clickhouse: end ({settings.end}) must be after start ({settings.start})"
            )
        self._start, self._end = start, end
        self._rows = 0

    def venues(self) -> list[str]:
        """The configured venues, else the config's enabled exchanges."""
        return list(self.settings.venues or self.ctx.config.exchanges.enabled)

    def _where(self, lo: float | None, hi: float | None) -> str:
        s = self.settings
        parts = ["1"]
        if lo is not None:
            parts.append(f"timestamp >= fromUnixTimestamp64Milli(toInt64({round(lo * 1000)}))")
        if hi is not None:
            parts.append(f"timestamp < fromUnixTimestamp64Milli(toInt64({round(hi * 1000)}))")
        if s.venues:
            parts.append(f"exchange IN ({_quoted(s.venues)})")
        symbols = s.symbols or self.ctx.config.symbols
        if symbols:
            parts.append(f"symbol IN ({_quoted(list(symbols))})")
        return " AND ".join(parts)

    def _range(self, backend: ClickHouseBackend) -> tuple[float, float] | None:
        db = self.settings.database
        where = self._where(self._start, self._end)
        sql = (
            f"SELECT min(t) AS lo, max(t) AS hi FROM ("
            f"SELECT timestamp AS t FROM {db}.orderbook_snapshots WHERE {where} "
            f"UNION ALL SELECT timestamp AS t FROM {db}.tick_trades WHERE {where})"
        )
        got = backend.query(sql)
        lo, hi = got.get("lo", [None])[0], got.get("hi", [None])[0]
        if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)):
            return None
        count = backend.query(f"SELECT count() AS n FROM {db}.orderbook_snapshots WHERE {where}")
        if not count["n"][0] and not self.settings.trades:
            return None
        return float(lo), float(hi)

    def events(self) -> Iterator[MarketEvent]:
        """Snapshots and trades of the range, in time order (books first at equal times)."""
        self._rows = 0
        backend = open_backend(self.settings, self.ctx.config, self.ctx.config.resolve_path("."))
        try:
            span = self._range(backend)
            if span is None:
                return
            lo, hi = span
            step = self.settings.chunk_s
            t = lo
            while t <= hi:
                yield from self._chunk(backend, t, t + step)
                t += step
        finally:
            backend.close()

    def _chunk(self, backend: ClickHouseBackend, lo: float, hi: float) -> Iterator[MarketEvent]:
        db = self.settings.database
        where = self._where(max(lo, self._start or lo), min(hi, self._end or hi))
        books = backend.query(
            "SELECT timestamp, exchange, symbol, bids.price AS bp, bids.qty AS bq, asks.price AS ap, "
            f"asks.qty AS aq FROM {db}.orderbook_snapshots WHERE {where} ORDER BY timestamp, exchange, symbol"
        )
        streams: list[Iterator[tuple[float, int, MarketEvent]]] = [self._books(books)]
        if self.settings.trades:
            trades = backend.query(
                "SELECT timestamp, exchange, symbol, price, quantity, side "
                f"FROM {db}.tick_trades WHERE {where} ORDER BY timestamp, exchange, symbol"
            )
            streams.append(self._trades(trades))
        for _, _, ev in heapq.merge(*streams, key=lambda x: (x[0], x[1])):
            self._rows += 1
            yield ev

    @staticmethod
    def _books(c: Columns) -> Iterator[tuple[float, int, MarketEvent]]:
        if not c:
            return
        for ts, ex, sym, bp, bq, ap, aq in zip(
            c["timestamp"], c["exchange"], c["symbol"], c["bp"], c["bq"], c["ap"], c["aq"], strict=True
        ):
            yield (
                ts,
                0,
                BookUpdate(ts, ex, sym, list(zip(bp, bq, strict=True)), list(zip(ap, aq, strict=True)), True),
            )

    @staticmethod
    def _trades(c: Columns) -> Iterator[tuple[float, int, MarketEvent]]:
        if not c:
            return
        for ts, ex, sym, px, qty, side in zip(
            c["timestamp"], c["exchange"], c["symbol"], c["price"], c["quantity"], c["side"], strict=True
        ):
            yield ts, 1, TradeTick(ts, ex, sym, px, qty, Side(side))

    def stats(self) -> dict[str, Any]:
        """Events replayed so far."""
        return {"events": self._rows}
