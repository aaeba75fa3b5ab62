"""The clickhouse-connect backend against ClickHouse's engine behind its HTTP interface.

The server is :class:`arbot_clickhouse.testing.ChdbHttpEndpoint` (see its docstring for exactly
what this proves and what it does not): real HTTP on loopback, every request executed by chdb.
"""

from __future__ import annotations

import math
import shutil
import socket
from pathlib import Path
from typing import Any

from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import BookUpdate, TradeTick
from arbot_clickhouse.testing import ChdbHttpEndpoint


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _expected(events: list[Any], interval: float) -> tuple[int, int]:
    nxt: dict[tuple[str, str], float] = {}
    books = trades = 0
    for ev in events:
        if isinstance(ev, TradeTick):
            trades += 1
        elif isinstance(ev, BookUpdate) and ev.ts >= nxt.get((ev.venue, ev.symbol), -math.inf):
            nxt[(ev.venue, ev.symbol)] = ev.ts + interval
            books += 1
    return books, trades


def _counts(ep: ChdbHttpEndpoint) -> dict[str, int]:
    out = {}
    for table in ("orderbook_snapshots", "tick_trades", "spread_history"):
        out[table] = int(ep.query(f"SELECT count() FROM arbot.{table}").strip())
    return out


def test_server_down_spills_then_replays_once_and_reads_back(ch_config: Any, tmp_path: Path) -> None:
    port = _free_port()
    sink = {
        "backend": "http", "host": "127.0.0.1", "port": port, "book_interval_s": 1.0, "book_depth": 5,
        "spread_pairs": [["a", "b"]], "flush_interval_s": 0.05, "batch_size": 400, "retries": 0,
    }  # fmt: skip
    first = Bot(config_from_dict(ch_config(sink)), mode="backtest")
    n_books, n_trades = _expected(list(first.source.events()), 1.0)
    s1 = first.run_backtest()["sinks"]["clickhouse"]
    assert s1["written"] == 0 and s1["lost"] == 0 and s1["spilled"] == s1["received"] > 0
    assert "Connection refused" in str(s1["last_error"]) or "connect" in str(s1["last_error"]).lower()
    spill = tmp_path / "out" / "spill" / "clickhouse"
    shutil.copytree(spill, tmp_path / "spill-copy")

    def later_run() -> dict[str, Any]:
        cfg = ch_config(sink)
        cfg["source"]["simulator"]["duration_s"] = 0.001
        return Bot(config_from_dict(cfg), mode="backtest").run_backtest()["sinks"]["clickhouse"]

    with ChdbHttpEndpoint(tmp_path / "server", port=port) as ep:
        s2 = later_run()
        assert s2["replayed"] == s1["spilled"] and s2["spill_pending"] == 0 and s2["lost"] == 0
        counts = _counts(ep)
        assert counts["orderbook_snapshots"] == n_books and counts["tick_trades"] == n_trades
        for f in (tmp_path / "spill-copy").iterdir():  # the same batches again
            shutil.copy(f, spill / f.name)
        s3 = later_run()
        assert s3["replayed"] == s1["spilled"]
        assert _counts(ep) == counts, "a replayed batch was stored twice"
        assert any(r.startswith("INSERT INTO arbot.tick_trades") for r in ep.requests)

        source = {"backend": "http", "host": "127.0.0.1", "port": port}
        replay = Bot(config_from_dict(ch_config(None, ("clickhouse", source))), mode="backtest")
        replayed = list(replay.source.events())
    assert sum(isinstance(e, TradeTick) for e in replayed) == n_trades
    assert sum(isinstance(e, BookUpdate) for e in replayed) == counts["orderbook_snapshots"]
    assert [e.ts for e in replayed] == sorted(e.ts for e in replayed)
