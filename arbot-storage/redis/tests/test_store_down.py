"""Zero loss with Redis down: a paper run against a venue emulator publishes to the bus while
its (private) Redis server is shut down with SHUTDOWN NOSAVE and restarted; every event the
feed produced is in the stream exactly once, in order."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import Side, TradeTick
from arbot_redis.bus import BusPublisher, stream_key
from arbot_redis.codec import encode_trade
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
    entries = client.xrange(stream_key("down", "binance"))
    client.close()
    seqs = [int(fields[b"s"]) for _, fields in entries]
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
            "sinks": {"enabled": ["redis_bus"], "redis_bus": {"prefix": redis_prefix}},
        }
    )
    sink = Bot(cfg, mode="backtest").sinks[0]
    assert isinstance(sink, BusPublisher)
    trade = TradeTick(1.0, "x", "BTC/USDT", 100.0, 1.0, Side.SELL)
    batch = [("x", f"1000-{seq}", seq, encode_trade(trade)) for seq in range(1, 6)]
    sink.open_store()
    try:
        sink.write_batch(batch[:3], sink.run)  # the first write landed partly...
        sink.write_batch(batch, sink.run)  # ...and the whole batch is written again
    finally:
        sink.close_store()
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    seqs = [int(f[b"s"]) for _, f in client.xrange(stream_key(redis_prefix, "x"))]
    client.close()
    assert seqs == [1, 2, 3, 4, 5] and sink.counters["already_stored"] == 3
