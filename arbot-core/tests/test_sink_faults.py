"""Sink faults are contained, counted and loud (issue 8 §3).

Each test reproduces one defect of the old ``BatchingSink``: a writer thread that died silently
on an unwritable path, batches that overtook a spill after a failed replay or a buffer overflow,
and a spill of an earlier run replayed under the current run's id.

Tests run as root, which ignores permission bits, so an "unwritable" path is one below a
regular *file* (``blocker/journal.sqlite``): no user can create a directory there.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
from arbot import hookimpl
from arbot.bot import Bot
from arbot.config import BotConfig
from arbot.sinks.base import BatchingSink, RunInfo, StoreDownError


class ScriptedStore(BatchingSink):
    """An in-memory store whose failures the test scripts (the store itself is the point
    of these tests, so a real database would add nothing: the order of calls is what is checked)."""

    name: ClassVar[str] = "scripted"
    written: ClassVar[list[Any]] = []
    runs: ClassVar[list[str]] = []
    down: ClassVar[bool] = False
    refuse: ClassVar[set[Any]] = set()
    lock = threading.Lock()

    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        with ScriptedStore.lock:
            if ScriptedStore.down or ScriptedStore.refuse.intersection(batch):
                raise ConnectionError("store refused the batch")
            ScriptedStore.written.extend(batch)
            ScriptedStore.runs.extend(run.run_id for _ in batch)


class ScriptedPlugin:
    @hookimpl
    def arbot_register_sinks(self) -> list[type[BatchingSink]]:
        return [ScriptedStore]


def _reset() -> None:
    ScriptedStore.written = []
    ScriptedStore.runs = []
    ScriptedStore.down = False
    ScriptedStore.refuse = set()


def _sinks(enabled: list[str], settings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``[sinks]`` table for ``enabled`` sinks with their settings."""
    return {"enabled": enabled, **settings}


def _config(make_config: Any, sinks: dict[str, Any], **extra: Any) -> BotConfig:
    data: dict[str, Any] = {
        "system": {"execution_mode": "backtest"},
        "exchanges": {"enabled": ["a", "b"]},
        "symbols": ["BTC/USDT"],
        "source": {
            "name": "simulator",
            "simulator": {"venues": ["a", "b"], "duration_s": 120, "dislocations_per_hour": 200},
        },
        "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.25, "min_depth_usd": 100}},
        "executor": {"latency_ms": 50},
        "portfolio": {"initial": {"USDT": 100_000, "BTC": 2.0}},
        "sinks": sinks,
    }
    data.update(extra)
    return make_config(data)


def _scripted(make_config: Any, **settings: Any) -> ScriptedStore:
    base = {"retries": 1, "retry_backoff_s": 0.0, "flush_interval_s": 0.01, "batch_size": 10}
    cfg = _config(make_config, _sinks(["scripted"], {"scripted": {**base, **settings}}))
    sink = Bot(cfg, plugins=[ScriptedPlugin()], mode="backtest").sinks[0]
    assert isinstance(sink, ScriptedStore)
    return sink


def test_batches_never_overtake_a_spill_whose_replay_failed(make_config: Any) -> None:
    _reset()
    sink = _scripted(make_config)
    sink.start()
    ScriptedStore.down = True
    first = list(range(20))
    for e in first:
        sink.emit(e)
    sink.flush()
    assert sink.stats()["spilled"] == 20 and ScriptedStore.written == []
    # The store is back, but the replay of the first spilled batch keeps failing:
    ScriptedStore.down = False
    ScriptedStore.refuse = {0}
    second = list(range(20, 30))
    for e in second:
        sink.emit(e)
    sink.flush()
    assert ScriptedStore.written == [], "a new batch was written ahead of the pending spill"
    assert sink.stats()["spill_pending"] == 1
    ScriptedStore.refuse = set()
    sink.close()
    assert ScriptedStore.written == first + second
    assert sink.lost() == 0 and sink.stats()["spill_pending"] == 0


def test_buffer_overflow_keeps_emit_order(make_config: Any) -> None:
    _reset()
    sink = _scripted(make_config, max_buffer=25)
    events = list(range(100))
    for e in events:  # the writer is not running yet: the buffer overflows on its first pass
        sink.emit(e)
    sink.start()
    sink.close()
    assert sink.stats()["spilled"] > 0, "the overflow path was not exercised"
    assert ScriptedStore.written == events
    assert sink.lost() == 0


def test_spill_of_an_earlier_run_replays_under_that_runs_id(make_config: Any, tmp_path: Path) -> None:
    _reset()
    old = _scripted(make_config)
    old_run = old.run.run_id
    ScriptedStore.down = True
    old.start()
    for e in range(15):
        old.emit(e)
    old.close()
    assert old.stats()["spill_pending"] == 1 and old.lost() == 0
    ScriptedStore.down = False
    new = _scripted(make_config, batch_size=7)
    new.run = RunInfo("the-next-run", new.run.mode, new.run.started_at, new.run.config_file)
    new.start()
    new.emit(100)
    new.close()
    assert ScriptedStore.written == [*range(15), 100]
    assert ScriptedStore.runs == [old_run] * 15 + ["the-next-run"]


def _blocker(tmp_path: Path) -> Path:
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file: nothing can be created below it")
    return blocker


def test_unwritable_output_dir_counts_every_event_as_lost_and_the_writer_survives(
    make_config: Any, tmp_path: Path
) -> None:
    blocker = _blocker(tmp_path)
    cfg = _config(
        make_config,
        _sinks(["sqlite_journal"], {"sqlite_journal": {"retries": 0, "flush_interval_s": 0.01}}),
        output_dir=str(blocker / "out"),
    )
    bot = Bot(cfg, mode="backtest")
    summary = bot.run_backtest()
    stats = summary["sinks"]["sqlite_journal"]
    journal = bot.sinks[0]
    assert stats["received"] > 20
    assert journal.lost() == stats["received"] == stats["lost"]
    assert stats["written"] == 0 and stats["spill_errors"] >= 1
    assert "blocker" in str(stats["last_error"])

    # The writer thread lives on: once the path can be created, later events reach the journal.
    _reset()
    sink = _scripted(make_config, spill_dir=str(blocker / "spill"))
    ScriptedStore.down = True
    sink.start()
    for e in range(10):
        sink.emit(e)
    sink.flush()
    assert sink.lost() == 10 and sink.stats()["spill_errors"] >= 1
    blocker.unlink()
    for e in range(10, 20):
        sink.emit(e)
    sink.flush()
    ScriptedStore.down = False
    sink.close()
    assert ScriptedStore.written == list(range(10, 20))
    assert sink.lost() == 10 and sink.stats()["spill_pending"] == 0


def test_unwritable_journal_path_spills_and_the_next_run_replays_under_the_first_runs_id(
    make_config: Any, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "blocker").write_text("a regular file")
    fast = {"retries": 0, "flush_interval_s": 0.01}
    blocked = {"sqlite_journal": {**fast, "path": "blocker/j.sqlite"}}
    first = Bot(_config(make_config, _sinks(["sqlite_journal"], blocked)), mode="backtest")
    s1 = first.run_backtest()["sinks"]["sqlite_journal"]
    assert s1["written"] == 0 and s1["lost"] == 0 and s1["spilled"] == s1["received"] > 0
    assert s1["spill_pending"] == 1 and "blocker" in str(s1["last_error"])
    assert not (out / "blocker" / "j.sqlite").exists()
    signals_1 = first.summary["detected"]
    assert signals_1 > 0

    second = Bot(
        _config(
            make_config,
            _sinks(["sqlite_journal"], {"sqlite_journal": fast}),
            backtest={"seed": 11},
        ),
        mode="backtest",
    )
    assert second.ctx.run_id != first.ctx.run_id
    s2 = second.run_backtest()["sinks"]["sqlite_journal"]
    assert s2["replayed"] == s1["spilled"] and s2["spill_pending"] == 0 and s2["lost"] == 0
    db = sqlite3.connect(out / "journal.sqlite")
    by_run = dict(db.execute("SELECT run_id, count(*) FROM arbitrage_signals GROUP BY run_id").fetchall())
    runs = {r for (r,) in db.execute("SELECT run_id FROM runs")}
    db.close()
    assert by_run[first.ctx.run_id] == signals_1
    assert by_run[second.ctx.run_id] == second.summary["detected"]
    assert runs == {first.ctx.run_id, second.ctx.run_id}


def test_a_store_down_past_its_limit_fails_the_sink_loudly(make_config: Any) -> None:
    _reset()
    sink = _scripted(make_config, max_outage_s=0.05)
    ScriptedStore.down = True
    sink.start()
    sink.emit(1)
    deadline = time.monotonic() + 10
    with pytest.raises(StoreDownError, match=r"store down for .* \(limit 0.05 s\): ConnectionError"):
        while time.monotonic() < deadline:
            sink.emit(2)
            sink.flush()
    ScriptedStore.down = False
    sink.close()
    assert sink.lost() == 0 and ScriptedStore.written[0] == 1
