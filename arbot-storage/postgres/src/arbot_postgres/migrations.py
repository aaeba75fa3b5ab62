"""The journal's schema as versioned migrations, applied in order by :mod:`arbot_postgres.migrate`.

Version 1 is the TRD §4.1 schema (``exchanges``, ``trades``, ``arbitrage_signals``,
``portfolio_snapshots``, ``daily_performance``) with every TRD column and type, plus what one
database holding many runs and an idempotent replay need:

- every journal table carries ``run_id`` (the run that emitted the row; a spill replayed by a
  later run keeps its own run's id), ``run_instance`` (one start of the bot: two starts of the
  same configuration share ``run_id``) and a key that makes a second write of the same event a
  no-op: ``(run_id, run_instance, event_seq)`` where ``event_seq`` numbers the events the sink
  received in that start;
- ``daily_performance``'s primary key is ``(run_id, run_instance, date, execution_mode)``
  instead of the TRD's ``(date, execution_mode)``, which two runs of one day would collide on;
- ``runs`` lists the runs, one row per start.

Version 2 adds what live execution needs: ``orders`` (the write-ahead intent, then its latest
state), ``order_transitions`` (every state change as reported) and ``episodes`` (one executed or
missed opportunity with its legs, P&L and fees).

Version 3 adds the execution layer's write-ahead journal (the PostgreSQL
:class:`~arbot.execution.journal.JournalStore`): ``exec_orders``, ``exec_fills``,
``exec_episodes``, ``exec_transitions`` and ``exec_flags``, the same records as the embedded
``execution.sqlite``, each keyed by ``scope`` (one bot's journal: by default its output folder, so
several bots share a database without reconciling each other's orders). Numbers are
``DOUBLE PRECISION`` so a record reads back exactly as written.

Never edit a released migration: add a new one.
"""

from __future__ import annotations

import attrs

__all__ = ["MIGRATIONS", "Migration", "latest_version"]


@attrs.frozen
class Migration:
    """One schema step: its version (1, 2, ...), a name and the SQL that applies it."""

    version: int
    name: str
    sql: str


_V1_TRD_SCHEMA = """
CREATE TABLE runs (
    run_id          TEXT NOT NULL,
    run_instance    TEXT NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    execution_mode  VARCHAR(10) NOT NULL,
    config_file     TEXT,
    PRIMARY KEY (run_id, run_instance)
);

CREATE TABLE exchanges (
    id              SERIAL PRIMARY KEY,
    name            VARCHAR(50) UNIQUE NOT NULL,
    tier            SMALLINT NOT NULL DEFAULT 2,
    is_active       BOOLEAN NOT NULL DEFAULT true,
    maker_fee_pct   DECIMAL(6,4) NOT NULL,
    taker_fee_pct   DECIMAL(6,4) NOT NULL,
    config_json     JSONB,
    created_at      TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE trades (
    id              BIGSERIAL PRIMARY KEY,
    signal_id       UUID NOT NULL,
    exchange        VARCHAR(50) NOT NULL,
    symbol          VARCHAR(20) NOT NULL,
    side            VARCHAR(4) NOT NULL,
    order_type      VARCHAR(10) NOT NULL,
    requested_qty   DECIMAL(20,8) NOT NULL,
    filled_qty      DECIMAL(20,8),
    requested_price DECIMAL(20,8),
    filled_price    DECIMAL(20,8),
    fee             DECIMAL(20,8),
    fee_asset       VARCHAR(10),
    status          VARCHAR(20) NOT NULL,
    execution_mode  VARCHAR(10) NOT NULL,
    latency_ms      DECIMAL(10,2),
    created_at      TIMESTAMPTZ DEFAULT NOW(),
    filled_at       TIMESTAMPTZ,
    run_id          TEXT NOT NULL,
    run_instance    TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    leg             SMALLINT NOT NULL,
    UNIQUE (run_id, run_instance, event_seq, leg)
);

CREATE TABLE arbitrage_signals (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    strategy        VARCHAR(20) NOT NULL,
    buy_exchange    VARCHAR(50),
    sell_exchange   VARCHAR(50),
    symbol          VARCHAR(20) NOT NULL,
    gross_spread    DECIMAL(10,6) NOT NULL,
    net_spread      DECIMAL(10,6) NOT NULL,
    estimated_pnl   DECIMAL(20,8),
    actual_pnl      DECIMAL(20,8),
    status          VARCHAR(20) NOT NULL,
    detected_at     TIMESTAMPTZ NOT NULL,
    executed_at     TIMESTAMPTZ,
    metadata_json   JSONB,
    run_id          TEXT NOT NULL,
    run_instance    TEXT NOT NULL,
    opportunity_id  TEXT NOT NULL,
    reason          TEXT,
    event_seq       BIGINT NOT NULL,
    UNIQUE (run_id, run_instance, opportunity_id)
);

CREATE TABLE portfolio_snapshots (
    id              BIGSERIAL PRIMARY KEY,
    timestamp       TIMESTAMPTZ NOT NULL,
    exchange        VARCHAR(50) NOT NULL,
    asset           VARCHAR(10) NOT NULL,
    balance         DECIMAL(20,8) NOT NULL,
    usd_value       DECIMAL(20,4) NOT NULL,
    run_id          TEXT NOT NULL,
    run_instance    TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    UNIQUE (run_id, run_instance, event_seq)
);

CREATE TABLE daily_performance (
    date            DATE NOT NULL,
    execution_mode  VARCHAR(10) NOT NULL,
    total_signals   INTEGER DEFAULT 0,
    executed_trades INTEGER DEFAULT 0,
    total_pnl       DECIMAL(20,8) DEFAULT 0,
    total_fees      DECIMAL(20,8) DEFAULT 0,
    net_pnl         DECIMAL(20,8) DEFAULT 0,
    sharpe_ratio    DECIMAL(10,4),
    max_drawdown    DECIMAL(10,6),
    win_rate        DECIMAL(6,4),
    run_id          TEXT NOT NULL,
    run_instance    TEXT NOT NULL,
    PRIMARY KEY (run_id, run_instance, date, execution_mode)
);

CREATE INDEX trades_signal ON trades (signal_id);
CREATE INDEX signals_run_status ON arbitrage_signals (run_id, status);
CREATE INDEX snapshots_run_time ON portfolio_snapshots (run_id, timestamp);
"""

_V2_EXECUTION = """
CREATE TABLE orders (
    run_id          TEXT NOT NULL,
    run_instance    TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    exchange        VARCHAR(50) NOT NULL,
    symbol          VARCHAR(20) NOT NULL,
    side            VARCHAR(4) NOT NULL,
    order_type      VARCHAR(10) NOT NULL,
    time_in_force   VARCHAR(10) NOT NULL,
    quantity        DECIMAL(20,8) NOT NULL,
    price           DECIMAL(20,8),
    reduce_only     BOOLEAN NOT NULL DEFAULT false,
    status          VARCHAR(20) NOT NULL,
    order_id        TEXT,
    filled_qty      DECIMAL(20,8) NOT NULL DEFAULT 0,
    average_price   DECIMAL(20,8),
    intent_at       TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at      TIMESTAMPTZ,
    last_event_seq  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, run_instance, client_id)
);

CREATE TABLE order_transitions (
    id              BIGSERIAL PRIMARY KEY,
    run_id          TEXT NOT NULL,
    run_instance    TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    client_id       TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    exchange        VARCHAR(50) NOT NULL,
    symbol          VARCHAR(20) NOT NULL,
    status          VARCHAR(20) NOT NULL,
    filled_qty      DECIMAL(20,8) NOT NULL,
    average_price   DECIMAL(20,8),
    fills           INTEGER NOT NULL,
    source          VARCHAR(10) NOT NULL,
    venue_seq       DOUBLE PRECISION NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    UNIQUE (run_id, run_instance, event_seq)
);

CREATE TABLE episodes (
    id              UUID PRIMARY KEY,
    run_id          TEXT NOT NULL,
    run_instance    TEXT NOT NULL,
    opportunity_id  TEXT NOT NULL,
    strategy        VARCHAR(20) NOT NULL,
    symbol          VARCHAR(20) NOT NULL,
    opened_at       TIMESTAMPTZ NOT NULL,
    closed_at       TIMESTAMPTZ NOT NULL,
    executed        BOOLEAN NOT NULL,
    legs            INTEGER NOT NULL,
    pnl_usd         DECIMAL(20,8),
    fees_usd        DECIMAL(20,8),
    reason          TEXT,
    event_seq       BIGINT NOT NULL,
    UNIQUE (run_id, run_instance, opportunity_id)
);

CREATE INDEX transitions_order ON order_transitions (run_id, client_id);
"""

_V3_EXECUTION_JOURNAL = """
CREATE TABLE exec_orders (
    scope           TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    n               BIGSERIAL,
    episode_id      TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    venue           TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    side            TEXT NOT NULL,
    order_type      TEXT NOT NULL,
    time_in_force   TEXT NOT NULL,
    quantity        DOUBLE PRECISION NOT NULL,
    price           DOUBLE PRECISION,
    status          TEXT NOT NULL,
    ts              DOUBLE PRECISION NOT NULL,
    order_id        TEXT NOT NULL,
    filled          DOUBLE PRECISION NOT NULL,
    cost            DOUBLE PRECISION NOT NULL,
    fee             DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (scope, client_id)
);
CREATE INDEX exec_orders_open ON exec_orders (scope, status);

CREATE TABLE exec_fills (
    n               BIGSERIAL PRIMARY KEY,
    scope           TEXT NOT NULL,
    venue           TEXT NOT NULL,
    trade_id        TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    episode_id      TEXT NOT NULL,
    side            TEXT NOT NULL,
    price           DOUBLE PRECISION NOT NULL,
    quantity        DOUBLE PRECISION NOT NULL,
    fee             DOUBLE PRECISION NOT NULL,
    fee_asset       TEXT NOT NULL,
    ts              DOUBLE PRECISION NOT NULL,
    is_maker        BOOLEAN NOT NULL,
    UNIQUE (scope, venue, trade_id)
);

CREATE TABLE exec_episodes (
    scope            TEXT NOT NULL,
    episode_id       TEXT NOT NULL,
    n                BIGSERIAL,
    opportunity_id   TEXT NOT NULL,
    strategy         TEXT NOT NULL,
    state            TEXT NOT NULL,
    reason           TEXT NOT NULL,
    ts               DOUBLE PRECISION NOT NULL,
    expected_pnl_usd DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (scope, episode_id)
);

CREATE TABLE exec_transitions (
    n               BIGSERIAL PRIMARY KEY,
    scope           TEXT NOT NULL,
    ts              DOUBLE PRECISION NOT NULL,
    entity          TEXT NOT NULL,
    key             TEXT NOT NULL,
    state           TEXT NOT NULL,
    reason          TEXT NOT NULL
);
CREATE INDEX exec_transitions_key ON exec_transitions (scope, key);

CREATE TABLE exec_flags (
    scope           TEXT NOT NULL,
    name            TEXT NOT NULL,
    value           TEXT NOT NULL,
    PRIMARY KEY (scope, name)
);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "trd_4_1_journal", _V1_TRD_SCHEMA),
    Migration(2, "orders_transitions_episodes", _V2_EXECUTION),
    Migration(3, "execution_write_ahead_journal", _V3_EXECUTION_JOURNAL),
)


def latest_version() -> int:
    """The schema version this code writes."""
    return MIGRATIONS[-1].version
