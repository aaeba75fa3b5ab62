"""The clickhouse sink on chdb: the TRD §4.2 schema, rows equal to what the run produced, and the
history replayed into a backtest by the clickhouse source."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import BookUpdate, TradeTick
from arbot_clickhouse.backends import ChdbBackend
from arbot_clickhouse.schema import TABLE_COLUMNS, create_statements

SINK = {"backend": "chdb", "book_interval_s": 1.0, "book_depth": 5, "spread_pairs": [["a", "b"]],
        "flush_interval_s": 0.05, "batch_size": 500}  # fmt: skip


def test_schema_is_the_trds(tmp_path: Path) -> None:
    backend = ChdbBackend(tmp_path / "ch")
    try:
        for sql in create_statements("arbot"):
            backend.command(sql)
        for sql in create_statements("arbot"):  # idempotent
            backend.command(sql)
        shown = {
            t: backend.query(f"SHOW CREATE TABLE arbot.{t}")["statement"][0].replace("\n", " ")
            for t in TABLE_COLUMNS
        }
    finally:
        backend.close()
    book = " ".join(shown["orderbook_snapshots"].split())
    assert "`bids` Array(Tuple( price Float64, qty Float64))" in book
    assert "ORDER BY (exchange, symbol, timestamp)" in book and "TTL timestamp + toIntervalDay(90)" in book
    assert "`timestamp` DateTime64(3)" in book and "`exchange` LowCardinality(String)" in book
    assert "TTL timestamp + toIntervalDay(180)" in shown["tick_trades"]
    spread = " ".join(shown["spread_history"].split())
    assert "ORDER BY (symbol, exchange_a, exchange_b, timestamp)" in spread
    assert "TTL timestamp + toIntervalDay(365)" in spread


def _expected(events: list[Any], interval: float) -> tuple[int, int, list[BookUpdate]]:
    """Trades, and the book updates the sampling rule picks (one per book per interval)."""
    nxt: dict[tuple[str, str], float] = {}
    picked: list[BookUpdate] = []
    trades = 0
    for ev in events:
        if isinstance(ev, TradeTick):
            trades += 1
        elif isinstance(ev, BookUpdate):
            key = (ev.venue, ev.symbol)
            if ev.ts >= nxt.get(key, -math.inf):
                nxt[key] = ev.ts + interval
                picked.append(ev)
    return trades, len(picked), picked


def test_recorded_rows_equal_the_run_and_replay_into_a_backtest(ch_config: Any, tmp_path: Path) -> None:
    cfg = config_from_dict(ch_config(SINK))
    recorder = Bot(cfg, mode="backtest")
    events = list(recorder.source.events())
    assert all(ev.snapshot for ev in events if isinstance(ev, BookUpdate)), "the simulator sends full books"
    n_trades, n_books, picked = _expected(events, 1.0)
    stats = recorder.run_backtest()["sinks"]["clickhouse"]
    assert stats["lost"] == 0 and stats["spilled"] == 0 and stats["written"] == stats["received"]
    assert stats["rows:tick_trades"] == n_trades > 0
    assert stats["rows:orderbook_snapshots"] == n_books > 0
    assert stats["rows:spread_history"] > 0

    store = tmp_path / "out" / "clickhouse"
    backend = ChdbBackend(store)
    try:
        counts = {t: backend.query(f"SELECT count() AS n FROM arbot.{t}")["n"][0] for t in TABLE_COLUMNS}
        row = backend.query(
            "SELECT price_a, price_b, spread_pct FROM arbot.spread_history ORDER BY timestamp LIMIT 1"
        )
    finally:
        backend.close()
    assert counts == {
        "orderbook_snapshots": n_books,
        "tick_trades": n_trades,
        "spread_history": stats["rows:spread_history"],
    }
    pa, pb = row["price_a"][0], row["price_b"][0]
    assert math.isclose(row["spread_pct"][0], (pb - pa) / pa * 100.0, rel_tol=1e-9)

    source = {"backend": "chdb", "path": str(store)}
    replay = Bot(config_from_dict(ch_config(None, ("clickhouse", source))), mode="backtest")
    replayed = list(replay.source.events())
    assert len(replayed) == n_books + n_trades
    assert [e.ts for e in replayed] == sorted(e.ts for e in replayed)
    books = [e for e in replayed if isinstance(e, BookUpdate)]
    by_key = {(e.venue, round(e.ts, 3)): e for e in books}
    for original in picked[:50]:
        got = by_key[(original.venue, round(original.ts, 3))]
        want = [(float(p), float(q)) for p, q in list(original.bids)[:5]]
        assert [tuple(x) for x in got.bids] == want and got.snapshot
    summary = replay.run_backtest()
    assert summary["events"] == n_books + n_trades and summary["source"]["events"] == n_books + n_trades
