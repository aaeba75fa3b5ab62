"""The Redis Streams bus: acknowledged reads, a dead consumer's entries taken over, counted
gaps; and a feed process feeding an engine that trades on paper against the venue emulators."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import Side, TradeTick
from arbot.market import BookHealth
from arbot_redis.bus import BusPublisher, BusSource, handed_key, stream_key
from arbot_redis.codec import HealthChange, encode_book, encode_health, encode_trade, trade_item

URL = "redis://127.0.0.1:6379/0"
ARBOT = [sys.executable, "-m", "arbot"]


def _engine(tmp_path: Path, prefix: str, consumer: str, **bus: Any) -> Bot:
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path / consumer),
            "system": {"execution_mode": "paper"},
            "exchanges": {"enabled": ["x"]},
            "symbols": ["BTC/USDT"],
            "source": {"name": "redis_bus", "redis_bus": {"prefix": prefix, "consumer": consumer, **bus}},
            "detector": {},
            "sinks": {"enabled": []},
        }
    )
    return Bot(cfg, mode="paper")


def _publish(prefix: str, n: int, skip: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    client = redis.Redis.from_url(URL)
    for seq in range(1, n + 1):
        if seq in skip:
            continue
        ev = TradeTick(1000.0 + seq, "x", "BTC/USDT", 100.0 + seq, 1.0, Side.BUY)
        client.xadd(stream_key(prefix, "x"), {"s": seq, "e": encode_trade(ev)})
    client.close()


async def _take(source: BusSource, n: int, *, settle_s: float = 0.0, timeout: float = 20.0) -> list[Any]:
    """The first ``n`` events; with ``settle_s``, keep consuming (acknowledging) that much longer."""
    got: list[Any] = []
    enough = asyncio.Event()

    async def run() -> None:
        async for ev in source.aevents():
            got.append(ev)
            if len(got) >= n:
                if not settle_s:
                    break
                enough.set()

    task = asyncio.create_task(run())
    try:
        if settle_s:
            await asyncio.wait_for(enough.wait(), timeout)
            await asyncio.sleep(settle_s)
        else:
            await asyncio.wait_for(asyncio.shield(task), timeout)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return got


def test_a_dead_consumers_entries_are_taken_over_and_acknowledged(tmp_path: Path, redis_prefix: str) -> None:
    _publish(redis_prefix, 50)
    dead = _engine(tmp_path, redis_prefix, "dead", count=1000).source
    assert isinstance(dead, BusSource)
    first = asyncio.run(_take(dead, 10))  # reads all 50, handles 10 (acknowledged), then stops
    assert [e.price for e in first] == [100.0 + i for i in range(1, 11)]
    client = redis.Redis.from_url(URL)
    key = stream_key(redis_prefix, "x")
    assert client.xpending(key, "engine")["pending"] == 40  # the 10 it handled were acknowledged
    heir = _engine(tmp_path, redis_prefix, "heir", claim_idle_ms=50, claim_interval_s=0.05).source
    assert isinstance(heir, BusSource)
    asyncio.run(asyncio.sleep(0.1))
    got = asyncio.run(_take(heir, 40, settle_s=0.5))
    assert sorted(e.price for e in got) == [100.0 + i for i in range(11, 51)]  # each once, none lost
    assert heir.stats()["claimed"] == 40 and heir.stats()["acked"] == 40
    assert client.xpending(key, "engine")["pending"] == 0
    client.close()


def test_sequence_gaps_count_as_lost(tmp_path: Path, redis_prefix: str) -> None:
    _publish(redis_prefix, 20, skip={5, 6, 7, 12})
    source = _engine(tmp_path, redis_prefix, "one").source
    assert isinstance(source, BusSource)
    got = asyncio.run(_take(source, 16))
    assert len(got) == 16 and source.stats()["lost"] == 4


def test_a_feed_process_feeds_an_engine_that_trades_on_paper(tmp_path: Path, redis_prefix: str) -> None:
    common = (
        'symbols = ["BTC/USDT", "ETH/USDT"]\n[system]\nexecution_mode = "paper"\n'
        '[exchanges]\nenabled = ["binance", "okx"]\n'
    )
    feed = tmp_path / "feed.toml"
    feed.write_text(
        common + '[source]\nname = "live"\n[source.live]\nemulate = true\nemulator_seed = 5\n'
        "emulator_dislocation_probability = 0.02\n"
        f'[sinks]\nenabled = []\n[sinks.redis_bus]\nprefix = "{redis_prefix}"\n'
    )
    proc = subprocess.Popen(
        [*ARBOT, "run", str(feed), "--role", "feed", "--duration", "14", "--output-dir", str(tmp_path / "f")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = redis.Redis.from_url(URL)
        deadline = time.monotonic() + 60
        while not client.exists(
            stream_key(redis_prefix, "binance")
        ):  # the feed is up (slow on a busy machine)
            assert proc.poll() is None and time.monotonic() < deadline, "the feed did not start publishing"
            time.sleep(0.1)
        client.close()
        cfg = config_from_dict(
            {
                "output_dir": str(tmp_path / "engine"),
                "symbols": ["BTC/USDT", "ETH/USDT"],
                "system": {"execution_mode": "paper"},
                "exchanges": {"enabled": ["binance", "okx"]},
                "source": {"name": "redis_bus", "redis_bus": {"prefix": redis_prefix, "start": "0"}},
                "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.1, "min_depth_usd": 100}},
                "risk": {"max_spread_pct": 5.0, "max_book_age_ms": 2000},
                "executor": {"latency_ms": 30},
                "sinks": {"enabled": ["sqlite_journal"]},
            }
        )
        engine = Bot(cfg, mode="paper")
        summary = asyncio.run(engine.arun(duration_s=12.0))
    finally:
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    bus = summary["source"]
    client = redis.Redis.from_url(URL)
    pending = sum(
        client.xpending(stream_key(redis_prefix, v), "engine")["pending"] for v in ("binance", "okx")
    )
    client.close()
    assert bus["events"] > 100 and bus["lost"] == 0, (bus, summary["events"], err[-3000:])
    assert bus["entries"] < bus["events"]  # the feed packs several events per entry
    # every entry handed to the engine is acknowledged (the engine's counter may miss an XACK
    # completing during shutdown); what stays pending is at most the rest of the last read,
    # never handed over, left for another consumer of the group
    assert bus["acked"] >= bus["entries"] - 1 and pending < 1000
    assert summary["events"] > 100
    assert summary["detected"] > 0 and summary["executed"] > 0
    assert "redis_bus" in out


def test_feed_health_and_silence_reach_the_engines_books(tmp_path: Path, redis_prefix: str) -> None:
    client = redis.Redis.from_url(URL)
    key = stream_key(redis_prefix, "x")
    book = encode_book(1.0, "x", "BTC/USDT", [[99.0, 1.0]], [[101.0, 1.0]], None, True)
    client.xadd(key, {"s": 1, "e": book})
    client.xadd(key, {"s": 2, "e": encode_health(HealthChange(1.1, "x", "BTC/USDT", BookHealth.RESYNCING))})
    bot = _engine(tmp_path, redis_prefix, "one", stale_after_s=0.3, claim_interval_s=0.05)
    source = bot.source
    assert isinstance(source, BusSource)
    market = bot.ctx.market

    async def run() -> list[str]:
        states: list[str] = []
        async for ev in source.aevents():
            bot.engine.process(ev)  # the engine applies the full book: LIVE
            states.append(market.health("x", "BTC/USDT"))
            break
        return states

    assert asyncio.run(run()) == [BookHealth.LIVE]
    states: list[str] = []

    async def watch() -> None:
        agen = source.aevents()
        task = asyncio.ensure_future(agen.__anext__())
        for _ in range(40):  # the health entry, then a silent stream
            await asyncio.sleep(0.05)
            states.append(market.health("x", "BTC/USDT"))
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await task
        await agen.aclose()

    asyncio.run(watch())
    assert BookHealth.RESYNCING in states, "the feed's resync did not reach the engine"
    client.xadd(key, {"s": 3, "e": book})

    async def again() -> None:
        async for ev in source.aevents():
            bot.engine.process(ev)
            break

    asyncio.run(again())
    assert market.is_live("x", "BTC/USDT")

    async def silent() -> None:
        agen = source.aevents()
        task = asyncio.ensure_future(agen.__anext__())
        await asyncio.sleep(1.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await task
        await agen.aclose()

    asyncio.run(silent())
    assert market.health("x", "BTC/USDT") == BookHealth.STALE and source.stats()["stale_marks"] >= 1
    client.close()


def _publish_packed(tmp_path: Path, prefix: str, n: int, per_entry: int) -> BusPublisher:
    """``n`` trades written by the feed's sink, ``per_entry`` events per stream entry."""
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path / "feed"),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["x"]},
            "symbols": ["BTC/USDT"],
            "source": {"name": "simulator", "simulator": {"venues": ["x"], "duration_s": 1}},
            "detector": {},
            "sinks": {
                "enabled": ["redis_bus"],
                "redis_bus": {"prefix": prefix, "events_per_entry": per_entry},
            },
        }
    )
    sink = Bot(cfg, mode="backtest").sinks[0]
    assert isinstance(sink, BusPublisher)
    batch = [
        ("x", 1000, seq, trade_item(TradeTick(1000.0 + seq, "x", "BTC/USDT", 100.0 + seq, 1.0, Side.BUY)))
        for seq in range(1, n + 1)
    ]
    sink.open_store()
    try:
        sink.write_batch(batch, sink.run)
    finally:
        sink.close_store()
    return sink


def test_an_entry_stopped_midway_is_resumed_after_the_events_handed(
    tmp_path: Path, redis_prefix: str
) -> None:
    """Ten events per entry; the first engine stops after 14 events (in the second entry): the
    one taking over its pending entries gets events 15..30, each once."""
    _publish_packed(tmp_path, redis_prefix, 30, 10)
    client = redis.Redis.from_url(URL)
    key = stream_key(redis_prefix, "x")
    assert client.xlen(key) == 3
    dead = _engine(tmp_path, redis_prefix, "dead").source
    assert isinstance(dead, BusSource)
    first = asyncio.run(_take(dead, 14))
    assert [e.price for e in first] == [100.0 + i for i in range(1, 15)]
    assert client.xpending(key, "engine")["pending"] == 2  # the entry stopped in, and the next
    marks = handed_key(redis_prefix, "engine")
    assert client.hgetall(marks) == {f"{key}|1000-11".encode(): b"4"}
    heir = _engine(tmp_path, redis_prefix, "heir", claim_idle_ms=50, claim_interval_s=0.05).source
    assert isinstance(heir, BusSource)
    asyncio.run(asyncio.sleep(0.1))
    got = asyncio.run(_take(heir, 16, settle_s=0.5))
    assert [e.price for e in got] == [100.0 + i for i in range(15, 31)]  # none twice, none skipped
    assert heir.stats()["claimed"] == 2 and heir.stats()["resumed"] == 1 and heir.stats()["acked"] == 2
    assert client.xpending(key, "engine")["pending"] == 0 and not client.exists(marks)
    client.close()


def test_a_restarted_consumer_resumes_its_own_entry(tmp_path: Path, redis_prefix: str) -> None:
    _publish_packed(tmp_path, redis_prefix, 20, 20)
    source = _engine(tmp_path, redis_prefix, "one").source
    assert isinstance(source, BusSource)
    assert [e.price for e in asyncio.run(_take(source, 7))] == [100.0 + i for i in range(1, 8)]
    again = _engine(tmp_path, redis_prefix, "one").source  # the same consumer, restarted
    assert isinstance(again, BusSource)
    assert [e.price for e in asyncio.run(_take(again, 13))] == [100.0 + i for i in range(8, 21)]
    client = redis.Redis.from_url(URL)
    assert client.xpending(stream_key(redis_prefix, "x"), "engine")["pending"] == 0
    client.close()


def test_events_of_a_missing_packed_entry_count_as_lost(tmp_path: Path, redis_prefix: str) -> None:
    _publish_packed(tmp_path, redis_prefix, 30, 10)
    client = redis.Redis.from_url(URL)
    client.xdel(stream_key(redis_prefix, "x"), "1000-11")  # as if trimmed before it was read
    client.close()
    source = _engine(tmp_path, redis_prefix, "one").source
    assert isinstance(source, BusSource)
    got = asyncio.run(_take(source, 20))
    assert [e.price for e in got] == [100.0 + i for i in (*range(1, 11), *range(21, 31))]
    assert source.stats()["lost"] == 10
