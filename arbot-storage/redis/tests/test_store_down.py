"""Zero loss with Redis down: a paper run against a venue emulator publishes to the bus while
its (private) Redis server is shut down with SHUTDOWN NOSAVE and restarted; every event the
feed produced is in the stream exactly once, in order."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import BookUpdate, Side, TradeTick
from arbot_redis.bus import BusPublisher, read_stream, stream_key
from arbot_redis.codec import trade_item
from arbot_redis.prices import price_key
from arbot_redis.testing import PrivateRedis


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


def test_redis_shut_down_mid_run_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, private_redis: PrivateRedis
) -> None:
    bus = {"url": private_redis.url, "prefix": "down", "retries": 1, "retry_backoff_s": 0.05,
           "flush_interval_s": 0.05, "batch_size": 200, "max_outage_s": 60}  # fmt: skip
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "symbols": ["BTC/USDT", "ETH/USDT"],
            "system": {"execution_mode": "paper"},
            "exchanges": {"enabled": ["binance"]},
            "source": {"name": "live", "live": {"emulate": True, "emulator_seed": 2}},
            "detector": {},
            "executor": {"name": "none"},
            "sinks": {"enabled": ["redis_bus"], "redis_bus": bus},
        }
    )
    bot = Bot(cfg, mode="paper")
    result: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: result.update(asyncio.run(bot.arun(duration_s=10.0))))
    runner.start()
    time.sleep(3.0)
    private_redis.shutdown_nosave()
    time.sleep(3.0)
    private_redis.start()
    runner.join(timeout=120)
    assert not runner.is_alive()
    stats = result["sinks"]["redis_bus"]
    assert stats["write_errors"] > 0 and stats["spilled"] > 0 and stats["replayed"] == stats["spilled"]
    assert stats["lost"] == 0 and stats["spill_pending"] == 0 and stats["written"] == stats["received"]
    client = redis.Redis.from_url(private_redis.url)
    seqs = [seq for seq, _ in read_stream(client, stream_key("down", "binance"))]
    client.close()
    assert seqs == list(range(1, stats["received"] + 1)), "entries lost, doubled or out of order"


def test_a_batch_written_twice_is_stored_once(tmp_path: Path, redis_prefix: str) -> None:
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["x"]},
            "symbols": ["BTC/USDT"],
            "source": {"name": "simulator", "simulator": {"venues": ["x"], "duration_s": 1}},
            "detector": {},
            "sinks": {"enabled": ["redis_bus"], "redis_bus": {"prefix": redis_prefix, "events_per_entry": 2}},
        }
    )
    sink = Bot(cfg, mode="backtest").sinks[0]
    assert isinstance(sink, BusPublisher)
    batch = [
        ("x", 1000, seq, trade_item(TradeTick(float(seq), "x", "BTC/USDT", 100.0, 1.0, Side.SELL)))
        for seq in range(1, 6)
    ]
    entries = sink.entries(batch)
    assert [(e[1], e[2]["n"]) for e in entries] == [("1000-1", 2), ("1000-3", 2), ("1000-5", 1)]
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    for key, entry_id, fields in entries[:2]:  # the first write landed partly (two entries of three)...
        client.xadd(key, fields, id=entry_id)
    sink.open_store()
    try:
        sink.write_batch(batch, sink.run)  # ...and the whole batch is written again
    finally:
        sink.close_store()
    items = read_stream(client, stream_key(redis_prefix, "x"))
    client.close()
    assert [seq for seq, _ in items] == [1, 2, 3, 4, 5] and sink.counters["already_stored"] == 2
    assert [ev.ts for _, ev in items] == [1.0, 2.0, 3.0, 4.0, 5.0]


def _paper_config(tmp_path: Path, url: str, prefix: str, **sink: Any) -> dict[str, Any]:
    """The paper bot of ``examples/paper_emulated.toml`` (spatial detector, paper executor,
    three venue emulators), publishing to the bus and the price cache of ``url``."""
    store = {"url": url, "prefix": prefix, "retries": 1, "retry_backoff_s": 0.05, "flush_interval_s": 0.05,
             "batch_size": 200, "max_outage_s": 60, **sink}  # fmt: skip
    return {
        "output_dir": str(tmp_path),
        "symbols": ["BTC/USDT", "ETH/USDT"],
        "system": {"execution_mode": "paper"},
        "exchanges": {"enabled": ["binance", "okx", "bybit"]},
        "source": {"name": "live", "live": {"emulate": True, "emulator_seed": 1,
                                            "emulator_dislocation_probability": 0.004}},
        "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.1, "min_depth_usd": 100,
                                 "max_latency_ms": 1000}},
        "risk": {"max_spread_pct": 5.0, "max_book_age_ms": 2000},
        "executor": {"latency_ms": 30},
        "sinks": {"enabled": ["sqlite_journal", "redis_prices", "redis_bus"],
                  "redis_prices": {**store, "ttl_s": None}, "redis_bus": store},
    }  # fmt: skip


def test_paper_run_with_redis_down_keeps_the_price_cache_and_the_bus_exact(
    tmp_path: Path, private_redis: PrivateRedis
) -> None:
    """SHUTDOWN NOSAVE mid-run, restart seconds later: both Redis sinks spill and replay in order;
    the stream holds every event once, in order, as many as the run processed, and the price
    cache ends on each book's last top (the same as the stream's last book)."""
    bot = Bot(config_from_dict(_paper_config(tmp_path, private_redis.url, "down")), mode="paper")
    result: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: result.update(asyncio.run(bot.arun(duration_s=10.0))))
    runner.start()
    time.sleep(3.0)
    private_redis.shutdown_nosave()
    time.sleep(3.0)
    private_redis.start()
    runner.join(timeout=120)
    assert not runner.is_alive()
    assert result["exit_code"] == 0, result
    assert result["exit_code"] == 0, result
    sinks = result["sinks"]
    for name in ("redis_prices", "redis_bus"):
        stats = sinks[name]
        assert stats["write_errors"] > 0 and stats["spilled"] > 0, f"{name}: Redis was never missed"
        assert stats["replayed"] == stats["spilled"] and stats["spill_pending"] == 0, name
        assert stats["lost"] == 0 and stats["written"] == stats["received"], name
    client = redis.Redis.from_url(private_redis.url)
    try:
        last_book: dict[tuple[str, str], BookUpdate] = {}
        books = trades = entries = 0
        for venue in ("binance", "okx", "bybit"):
            items = read_stream(client, stream_key("down", venue))
            assert [seq for seq, _ in items] == list(range(1, len(items) + 1)), (
                f"{venue}: lost, doubled or out of order"
            )
            entries += len(items)
            for _, ev in items:
                if isinstance(ev, BookUpdate):
                    books += 1
                    last_book[(ev.venue, ev.symbol)] = ev
                elif isinstance(ev, TradeTick):
                    trades += 1
        assert entries == sinks["redis_bus"]["received"]
        assert books + trades == result["events"], "the stream does not hold what the run processed"
        assert books == sinks["redis_prices"]["received"]
        assert len(last_book) == 6
        for (venue, symbol), ev in last_book.items():
            cached = client.hgetall(price_key("down", venue, symbol))
            assert float(cached[b"ts"]) == ev.ts
            assert (float(cached[b"bid"]), float(cached[b"bid_qty"])) == tuple(ev.bids[0])
            assert (float(cached[b"ask"]), float(cached[b"ask_qty"])) == tuple(ev.asks[0])
    finally:
        client.close()


def test_redis_down_past_max_outage_ends_the_run_with_exit_1(
    tmp_path: Path, private_redis: PrivateRedis
) -> None:
    """Redis shut down mid-run and never restarted: past ``max_outage_s`` the run fails (exit 1)
    and says which store was down; the events are kept in the spill files."""
    cfg = _paper_config(tmp_path / "out", private_redis.url, "gone", max_outage_s=1.5)
    cfg["system"]["on_component_error"] = "stop"
    path = tmp_path / "paper.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = subprocess.Popen(
        [sys.executable, "-m", "arbot", "run", str(path), "--duration", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        client = redis.Redis.from_url(private_redis.url)
        deadline = time.monotonic() + 90
        while not client.exists(stream_key("gone", "binance")):  # the run is writing
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        client.close()
        private_redis.shutdown_nosave()
        out, err = proc.communicate(timeout=50)  # well before --duration: the outage ends the run
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, out + err
    assert "store down for" in err and "limit 1.5 s" in err
    spill = tmp_path / "out" / "spill"
    assert any(spill.glob("redis_*/batch-*.pkl")), "the unsent events must stay in the spill files"
