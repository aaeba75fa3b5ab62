"""The ClickHouse market-data sink: book snapshots at an interval and depth, every trade, and
spreads between configured venue pairs, into the TRD §4.2 tables (chdb or a server).

Rows are made on the hot path only when due (a snapshot per book per ``book_interval_s``, a
spread per pair and symbol per ``spread_interval_s``, a tuple per trade); books are sampled as
a book observer, right after the engine applied an update (the market's book, before the
simulated executor re-applies its own impact) and written in batches
by the :class:`~arbot.sinks.base.BatchingSink` writer thread, which spills and replays them in
order while ClickHouse is unavailable. Each insert carries a deduplication token made of the
run and the rows' numbers, so a replayed batch that had in fact landed is stored once.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from arbot.book import OrderBook
from arbot.components import BookObserver, BotContext
from arbot.config import ComponentSettings
from arbot.events import TradeTick
from arbot.sinks.base import BatchingSettings, BatchingSink, RunInfo
from pydantic import Field, field_validator

from arbot_clickhouse.backends import ClickHouseBackend
from arbot_clickhouse.rows import TABLE_OF, Row, book_row, columns_of, spread_row
from arbot_clickhouse.schema import TABLE_COLUMNS, create_statements
from arbot_clickhouse.settings import ClickHouseConnection, open_backend

__all__ = ["ClickHouseSink", "ClickHouseSinkSettings"]

#: The batching base class's enqueue (called directly: no ``super()`` lookup per event).
_enqueue = BatchingSink.emit


class ClickHouseSinkSettings(BatchingSettings, ClickHouseConnection):
    """``[sinks.clickhouse]``: the connection, what to sample and how often."""

    book_interval_s: float = Field(1.0, gt=0, description="seconds between snapshots of one book")
    book_depth: int = Field(10, ge=1, description="levels per side in a snapshot")
    trades: bool = Field(True, description="record every public trade")
    spread_pairs: list[tuple[str, str]] = Field(
        default_factory=list, description='venue pairs whose spread is recorded, e.g. [["binance", "okx"]]'
    )
    spread_interval_s: float = Field(1.0, gt=0, description="seconds between spread rows of one pair")
    ttl: bool = Field(True, description="create the tables with the TRD's TTLs (false: keep old history)")
    batch_size: int = Field(50_000, ge=1, description="rows written per insert")
    flush_interval_s: float = Field(1.0, gt=0, description="seconds between writer passes")

    @field_validator("spread_pairs")
    @classmethod
    def _distinct(cls, v: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for a, b in v:
            if a == b:
                raise ValueError(f"a spread pair needs two venues, got [{a!r}, {b!r}]")
        return v


class ClickHouseSink(BatchingSink, BookObserver):
    """Market data into ClickHouse: ``orderbook_snapshots``, ``tick_trades``, ``spread_history``."""

    name: ClassVar[str] = "clickhouse"
    description: ClassVar[str] = "market data to ClickHouse (TRD §4.2; chdb embedded or a server)"
    Settings: ClassVar[type[ComponentSettings]] = ClickHouseSinkSettings
    wants_market_data: ClassVar[bool] = True
    wants_results: ClassVar[bool] = False

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self._seq = 0
        self._next_book: dict[tuple[str, str], float] = {}
        self._next_spread: dict[tuple[str, str, str], float] = {}
        self._pairs: dict[str, list[tuple[str, str]]] = {}
        for a, b in settings.spread_pairs:
            self._pairs.setdefault(a, []).append((a, b))
            self._pairs.setdefault(b, []).append((a, b))
        self._trades = settings.trades
        self._backend: ClickHouseBackend | None = None
        self._db = settings.database

    # -- hot path -------------------------------------------------------------------------

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def emit(self, event: Any) -> None:
        """Enqueue a trade row (books are sampled in :meth:`on_book_update`): one tuple per event,
        numbered in its own first field."""
        if type(event) is TradeTick and self._trades:
            ev: TradeTick = event
            self._seq = seq = self._seq + 1
            # a plain tuple in TradeRow's field order, not a TradeRow (see rows.TradeTuple)
            _enqueue(self, (seq, ev.ts, ev.venue, ev.symbol, ev.price, ev.size, ev.side.value))

    def on_book_update(self, venue: str, symbol: str, book: OrderBook, now: float) -> None:
        """Sample the book just updated (and the spreads it takes part in) when due."""
        key = (venue, symbol)
        if now >= self._next_book.get(key, -math.inf):
            self._next_book[key] = now + self.settings.book_interval_s
            depth = self.settings.book_depth
            bids = [(p, q) for p, q in book.bids.levels(depth).tolist()]
            asks = [(p, q) for p, q in book.asks.levels(depth).tolist()]
            if bids or asks:
                _enqueue(self, book_row(self._next(), now, venue, symbol, bids, asks))
        for a, b in self._pairs.get(venue, ()):
            skey = (a, b, symbol)
            if now < self._next_spread.get(skey, -math.inf):
                continue
            top_a = self._top(a, symbol)
            top_b = self._top(b, symbol)
            if top_a is None or top_b is None:
                continue
            self._next_spread[skey] = now + self.settings.spread_interval_s
            fees = (self.ctx.taker_fee(a, symbol) + self.ctx.taker_fee(b, symbol)) * 100.0
            _enqueue(self, spread_row(self._next(), now, symbol, a, b, top_a, top_b, fees))

    def _top(self, venue: str, symbol: str) -> tuple[float, float] | None:
        book = self.ctx.market.get(venue, symbol)
        if book is None:
            return None
        bid, ask = book.best_bid, book.best_ask
        if not (math.isfinite(bid) and math.isfinite(ask)) or bid <= 0 or ask <= 0:
            return None
        return bid, ask

    # -- writer thread --------------------------------------------------------------------

    def open_store(self) -> None:
        """Open the backend and create the database and tables."""
        if self._backend is None:
            self._backend = open_backend(self.settings, self.ctx.config)
        for sql in create_statements(self._db, ttl=self.settings.ttl):
            self._backend.command(sql)

    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        """One insert per table, each with a token naming the run, the table and the batch's
        first and last event numbers (a retried or replayed batch is the same list of events,
        so it carries the same tokens and ClickHouse stores it once)."""
        backend = self._backend
        if backend is None:
            raise RuntimeError("clickhouse backend is not open")
        if not batch:
            return
        span = f"{batch[0][0]}-{batch[-1][0]}"  # every row's first field is its number
        parts: dict[str, list[Row]] = {}
        for r in batch:
            table = TABLE_OF[type(r)]
            part = parts.get(table)
            if part is None:
                parts[table] = part = []
            part.append(r)
        for table, part in parts.items():
            token = f"{run.run_id}:{run.instance}:{table}:{span}"
            backend.insert(f"{self._db}.{table}", TABLE_COLUMNS[table], columns_of(table, part), token)
            self.counters[f"rows:{table}"] += len(part)

    def close_store(self) -> None:
        """Close the backend."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None
