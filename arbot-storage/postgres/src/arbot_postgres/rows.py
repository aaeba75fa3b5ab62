"""Events to journal rows: one :class:`TableRows` per table, in the column order of
:data:`TABLES`, ready for ``COPY``.

Every event arrives numbered (``event_seq``, its position among the events the sink received
in its run); that number and the run's id and instance form each row's key, so writing the
same batch twice stores it once. Numbers that do not fit a column's ``DECIMAL(p, s)`` are stored
as NULL (or NaN where the TRD says NOT NULL) and counted, never allowed to block a batch.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from arbot.events import BalanceSnapshot, DailyPerformance, ExecutionReport, SignalRecord
from arbot.sinks.base import RunInfo
from arbot.trading.types import OrderRequest, OrderUpdate

__all__ = ["TABLES", "Table", "TableRows", "batch_rows", "signal_uuid"]

#: Namespace of the deterministic UUIDs of signals and episodes.
_NAMESPACE = uuid.UUID("5b0c1f7e-7d0a-4c55-9a43-61726230f001")


@attrs.frozen
class Table:
    """A journal table as the sink writes it: columns, key and what a conflict does."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    #: Columns a later event for the same key overwrites (empty: the first write wins).
    update: tuple[str, ...] = ()
    #: Only overwrite when the incoming row's ``event_seq`` is newer (orders).
    seq_column: str | None = None
    #: The table written (default: ``name``); two row sets may target one table.
    target: str | None = None

    @property
    def table(self) -> str:
        """The table the rows go to."""
        return self.target or self.name


_RUN = ("run_id", "run_instance")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "arbitrage_signals",
            (
                "id", "strategy", "buy_exchange", "sell_exchange", "symbol", "gross_spread", "net_spread",
                "estimated_pnl", "actual_pnl", "status", "detected_at", "executed_at", "metadata_json",
                *_RUN, "opportunity_id", "reason", "event_seq",
            ),
            (*_RUN, "opportunity_id"),
            ("actual_pnl", "status", "executed_at", "reason", "event_seq"),
            "event_seq",
        ),
        Table(
            "trades",
            (
                "signal_id", "exchange", "symbol", "side", "order_type", "requested_qty", "filled_qty",
                "requested_price", "filled_price", "fee", "fee_asset", "status", "execution_mode",
                "latency_ms", "created_at", "filled_at", *_RUN, "event_seq", "leg",
            ),
            (*_RUN, "event_seq", "leg"),
        ),
        Table(
            "episodes",
            (
                "id", *_RUN, "opportunity_id", "strategy", "symbol", "opened_at", "closed_at", "executed",
                "legs", "pnl_usd", "fees_usd", "reason", "event_seq",
            ),
            (*_RUN, "opportunity_id"),
        ),
        Table(
            "portfolio_snapshots",
            ("timestamp", "exchange", "asset", "balance", "usd_value", *_RUN, "event_seq"),
            (*_RUN, "event_seq"),
        ),
        Table(
            "daily_performance",
            (
                "date", "execution_mode", "total_signals", "executed_trades", "total_pnl", "total_fees",
                "net_pnl", "sharpe_ratio", "max_drawdown", "win_rate", *_RUN,
            ),
            (*_RUN, "date", "execution_mode"),
            (
                "total_signals", "executed_trades", "total_pnl", "total_fees", "net_pnl", "sharpe_ratio",
                "max_drawdown", "win_rate",
            ),
        ),
        Table(
            "orders",
            (
                *_RUN, "client_id", "exchange", "symbol", "side", "order_type", "time_in_force", "quantity",
                "price", "reduce_only", "status", "order_id", "filled_qty", "average_price", "intent_at",
                "updated_at", "last_event_seq",
            ),
            (*_RUN, "client_id"),
        ),
        Table(
            "order_states",
            (
                *_RUN, "client_id", "exchange", "symbol", "side", "order_type", "time_in_force", "quantity",
                "price", "reduce_only", "status", "order_id", "filled_qty", "average_price", "intent_at",
                "updated_at", "last_event_seq",
            ),
            (*_RUN, "client_id"),
            ("status", "order_id", "filled_qty", "average_price", "updated_at", "last_event_seq"),
            "last_event_seq",
            target="orders",
        ),
        Table(
            "order_transitions",
            (
                *_RUN, "event_seq", "client_id", "order_id", "exchange", "symbol", "status", "filled_qty",
                "average_price", "fills", "source", "venue_seq", "at",
            ),
            (*_RUN, "event_seq"),
        ),
    )
}  # fmt: skip


def ts(epoch: float | None) -> dt.datetime | None:
    """Epoch seconds to an aware UTC datetime."""
    if epoch is None or not math.isfinite(epoch):
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def signal_uuid(run: RunInfo, opportunity_id: str) -> uuid.UUID:
    """The deterministic id of an opportunity's signal row (and of its trades' ``signal_id``)."""
    return uuid.uuid5(_NAMESPACE, f"{run.run_id}/{run.instance}/{opportunity_id}")


#: 10 ** (precision - scale): the open bound of a DECIMAL(precision, scale) column's values.
_LIMITS = tuple(10.0**k for k in range(40))


@attrs.define
class TableRows:
    """Rows for the tables of one batch, and how many values did not fit their column."""

    rows: dict[str, list[tuple[Any, ...]]] = attrs.field(factory=lambda: {name: [] for name in TABLES})
    out_of_range: int = 0

    def fit(self, value: float | None, precision: int, scale: int, *, required: bool = False) -> float | None:
        """``value`` if it fits ``DECIMAL(precision, scale)``; else NULL (NaN when required)."""
        if value is None:
            return None
        limit = _LIMITS[precision - scale]
        if -limit < value < limit:  # False for NaN and the infinities too
            return value
        self.out_of_range += 1
        return math.nan if required else None

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        """Append one row to ``table``."""
        self.rows[table].append(row)


def _signal(out: TableRows, run: RunInfo, seq: int, ev: SignalRecord) -> None:
    o = ev.opportunity
    meta = {
        "legs": [[leg.venue, leg.symbol, leg.side.value, leg.price, leg.qty] for leg in o.legs],
        "confidence": o.confidence,
        "depth_usd": o.depth_usd,
        **o.metadata,
    }
    out.add(
        "arbitrage_signals",
        (
            signal_uuid(run, o.id),
            o.strategy.upper()[:20],
            o.buy_venue,
            o.sell_venue,
            o.symbol,
            out.fit(o.gross_spread_pct, 10, 6, required=True),
            out.fit(o.net_spread_pct, 10, 6, required=True),
            out.fit(o.estimated_profit, 20, 8),
            out.fit(ev.actual_pnl, 20, 8),
            ev.status.value,
            ts(o.ts),
            ts(ev.executed_ts),
            json.dumps(meta, default=str),
            run.run_id,
            run.instance,
            o.id,
            ev.reason,
            seq,
        ),
    )


def _report(out: TableRows, run: RunInfo, seq: int, ev: ExecutionReport) -> None:
    o = ev.opportunity
    sid = signal_uuid(run, o.id)
    for leg, f in enumerate(ev.fills):
        filled = f.filled_qty > 0
        out.add(
            "trades",
            (
                sid,
                f.venue,
                f.symbol,
                f.side.value,
                f.order_type,
                out.fit(f.requested_qty, 20, 8, required=True),
                out.fit(f.filled_qty, 20, 8),
                out.fit(f.requested_price, 20, 8),
                out.fit(f.avg_price, 20, 8) if filled else None,
                out.fit(f.fee, 20, 8),
                f.fee_asset,
                f.status.value,
                f.mode,
                out.fit(f.latency_ms, 10, 2),
                ts(o.ts),
                ts(f.ts) if filled else None,
                run.run_id,
                run.instance,
                seq,
                leg,
            ),
        )
    out.add(
        "episodes",
        (
            sid,
            run.run_id,
            run.instance,
            o.id,
            o.strategy.upper()[:20],
            o.symbol,
            ts(o.ts),
            ts(ev.ts),
            ev.executed,
            len(ev.fills),
            out.fit(ev.pnl_usd, 20, 8),
            out.fit(ev.fees_usd, 20, 8),
            ev.reason,
            seq,
        ),
    )


def _snapshot(out: TableRows, run: RunInfo, seq: int, ev: BalanceSnapshot) -> None:
    out.add(
        "portfolio_snapshots",
        (
            ts(ev.ts),
            ev.venue,
            ev.asset,
            out.fit(ev.balance, 20, 8, required=True),
            out.fit(ev.usd_value, 20, 4, required=True),
            run.run_id,
            run.instance,
            seq,
        ),
    )


def _daily(out: TableRows, run: RunInfo, ev: DailyPerformance) -> None:
    out.add(
        "daily_performance",
        (
            dt.date.fromisoformat(ev.date),
            ev.mode,
            ev.total_signals,
            ev.executed_trades,
            out.fit(ev.total_pnl, 20, 8),
            out.fit(ev.total_fees, 20, 8),
            out.fit(ev.net_pnl, 20, 8),
            out.fit(ev.sharpe_ratio, 10, 4),
            out.fit(ev.max_drawdown, 10, 6),
            out.fit(ev.win_rate, 6, 4),
            run.run_id,
            run.instance,
        ),
    )


def _intent(out: TableRows, run: RunInfo, seq: int, ev: OrderRequest, now: dt.datetime) -> None:
    out.add(
        "orders",
        (
            run.run_id,
            run.instance,
            ev.client_id,
            ev.venue,
            ev.symbol,
            ev.side.value,
            ev.order_type.value,
            ev.time_in_force.value,
            out.fit(ev.quantity, 20, 8, required=True),
            out.fit(ev.price, 20, 8),
            ev.reduce_only,
            "PENDING_NEW",
            None,
            0.0,
            None,
            now,
            None,
            seq,
        ),
    )


def _update(out: TableRows, run: RunInfo, seq: int, ev: OrderUpdate) -> None:
    st = ev.state
    at = ts(st.ts) or dt.datetime.now(dt.UTC)
    out.add(
        "order_transitions",
        (
            run.run_id,
            run.instance,
            seq,
            st.client_id,
            st.order_id,
            st.venue,
            st.symbol,
            st.status.value,
            out.fit(st.filled, 20, 8, required=True),
            out.fit(st.average_price, 20, 8),
            len(ev.fills),
            ev.source[:10],
            ev.seq,
            at,
        ),
    )
    # The order's latest state: inserted if the intent was journaled elsewhere, otherwise an
    # update that only a newer event may make.
    out.add(
        "order_states",
        (
            run.run_id,
            run.instance,
            st.client_id,
            st.venue,
            st.symbol,
            st.side.value,
            "unknown",
            "unknown",
            out.fit(st.quantity, 20, 8, required=True),
            out.fit(st.price, 20, 8),
            False,
            st.status.value,
            st.order_id,
            out.fit(st.filled, 20, 8, required=True),
            out.fit(st.average_price, 20, 8),
            at,
            at,
            seq,
        ),
    )


def batch_rows(batch: Iterable[tuple[int, object]], run: RunInfo) -> TableRows:
    """The rows of a batch of numbered events of ``run``; events of other kinds are ignored."""
    out = TableRows()
    now = dt.datetime.now(dt.UTC)
    for seq, ev in batch:
        if isinstance(ev, SignalRecord):
            _signal(out, run, seq, ev)
        elif isinstance(ev, ExecutionReport):
            _report(out, run, seq, ev)
        elif isinstance(ev, BalanceSnapshot):
            _snapshot(out, run, seq, ev)
        elif isinstance(ev, DailyPerformance):
            _daily(out, run, ev)
        elif isinstance(ev, OrderRequest):
            _intent(out, run, seq, ev, now)
        elif isinstance(ev, OrderUpdate):
            _update(out, run, seq, ev)
    return out


def last_per_key(table: Table, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows with one row per key (the last one wins), in their original order: one
    ``INSERT ... ON CONFLICT DO UPDATE`` may not touch the same row twice."""
    idx = [table.columns.index(k) for k in table.key]
    last: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in rows:
        last[tuple(row[i] for i in idx)] = row
    return list(last.values())
