"""The TRD §4.2 tables, as written (columns, types, ORDER BY, TTL), in a configurable database.

One addition: ``SETTINGS non_replicated_deduplication_window`` on each table, so an insert that
carries the same ``insert_deduplication_token`` as a recent one — a spilled batch replayed after
its first write did land — is stored once.
"""

from __future__ import annotations

__all__ = ["DEDUP_WINDOW", "TABLE_COLUMNS", "create_statements"]

DEDUP_WINDOW = 10_000

_TABLES = {
    "orderbook_snapshots": """
CREATE TABLE IF NOT EXISTS {db}.orderbook_snapshots (
    timestamp       DateTime64(3),
    exchange        LowCardinality(String),
    symbol          LowCardinality(String),
    bids            Array(Tuple(price Float64, qty Float64)),
    asks            Array(Tuple(price Float64, qty Float64)),
    mid_price       Float64,
    spread          Float64
) ENGINE = MergeTree()
ORDER BY (exchange, symbol, timestamp)
TTL timestamp + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = {window}
""",
    "tick_trades": """
CREATE TABLE IF NOT EXISTS {db}.tick_trades (
    timestamp       DateTime64(3),
    exchange        LowCardinality(String),
    symbol          LowCardinality(String),
    price           Float64,
    quantity        Float64,
    side            LowCardinality(String)
) ENGINE = MergeTree()
ORDER BY (exchange, symbol, timestamp)
TTL timestamp + INTERVAL 180 DAY
SETTINGS non_replicated_deduplication_window = {window}
""",
    "spread_history": """
CREATE TABLE IF NOT EXISTS {db}.spread_history (
    timestamp       DateTime64(3),
    symbol          LowCardinality(String),
    exchange_a      LowCardinality(String),
    exchange_b      LowCardinality(String),
    price_a         Float64,
    price_b         Float64,
    spread_pct      Float64,
    net_spread_pct  Float64
) ENGINE = MergeTree()
ORDER BY (symbol, exchange_a, exchange_b, timestamp)
TTL timestamp + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = {window}
""",
}

#: Column names of each table in insert order.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "orderbook_snapshots": ("timestamp", "exchange", "symbol", "bids", "asks", "mid_price", "spread"),
    "tick_trades": ("timestamp", "exchange", "symbol", "price", "quantity", "side"),
    "spread_history": (
        "timestamp", "symbol", "exchange_a", "exchange_b",
        "price_a", "price_b", "spread_pct", "net_spread_pct",
    ),
}  # fmt: skip


def create_statements(database: str, *, ttl: bool = True) -> list[str]:
    """``CREATE DATABASE`` and the three ``CREATE TABLE`` statements (idempotent).

    ``ttl=False`` leaves the TTL clauses out, for a store of old history: ClickHouse deletes rows
    older than a table's TTL (90 days of books, 180 of trades), so importing last year's data
    into the TRD tables as written would delete it again.
    """
    out = [f"CREATE DATABASE IF NOT EXISTS {database}"]
    for sql in _TABLES.values():
        text = sql.format(db=database, window=DEDUP_WINDOW).strip()
        if not ttl:
            text = "\n".join(line for line in text.splitlines() if not line.startswith("TTL "))
        out.append(text)
    return out
