"""The latest-price cache: after a run, each book's hash holds its last top of book and time."""

from __future__ import annotations

import math
from pathlib import Path

import redis
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import BookUpdate
from arbot_redis.prices import price_key


def test_each_book_holds_its_latest_top(tmp_path: Path, redis_prefix: str) -> None:
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["a", "b"]},
            "symbols": ["BTC/USDT", "ETH/USDT"],
            "source": {"name": "simulator", "simulator": {"venues": ["a", "b"], "duration_s": 60}},
            "detector": {},
            "sinks": {
                "enabled": ["redis_prices"],
                "redis_prices": {"prefix": redis_prefix, "batch_size": 100, "flush_interval_s": 0.01},
            },
        }
    )
    bot = Bot(cfg, mode="backtest")
    last: dict[tuple[str, str], BookUpdate] = {}
    for ev in bot.source.events():
        if isinstance(ev, BookUpdate):
            assert ev.snapshot
            last[(ev.venue, ev.symbol)] = ev
    stats = bot.run_backtest()["sinks"]["redis_prices"]
    assert stats["lost"] == 0 and stats["written"] == stats["received"] > 0
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0", decode_responses=True)
    try:
        assert len(last) == 4
        for (venue, symbol), ev in last.items():
            got = client.hgetall(price_key(redis_prefix, venue, symbol))
            assert float(got["bid"]) == float(ev.bids[0][0]) and float(got["ask"]) == float(ev.asks[0][0])
            assert float(got["bid_qty"]) == float(ev.bids[0][1])
            assert math.isclose(float(got["ts"]), ev.ts)
            assert 0 < client.pttl(price_key(redis_prefix, venue, symbol)) <= 60_000
    finally:
        client.close()
