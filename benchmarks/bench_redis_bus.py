"""Redis Streams bus: events/s from a feed process to an engine-side consumer (the redis_bus
source: XREADGROUP + decode + XACK), and the latency the bus adds (publish time -> consumed),
at full speed and paced at 5 000 events/s. Needs Redis on 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
import uuid

import redis
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot_redis.bus import BusSource

URL = "redis://127.0.0.1:6379/0"

PUBLISHER = r"""
import sys, time
import redis
from arbot.events import Side, TradeTick
from arbot_redis.bus import stream_key
from arbot_redis.codec import encode_trade
prefix, n, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
r = redis.Redis.from_url("redis://127.0.0.1:6379/0")
key = stream_key(prefix, "x")
batch = 2000 if rate == 0 else max(1, int(rate / 100))
seq = 0
start = time.perf_counter()
while seq < n:
    pipe = r.pipeline(transaction=False)
    for _ in range(min(batch, n - seq)):
        seq += 1
        ev = TradeTick(time.time(), "x", "BTC/USDT", 60000.0, 0.01, Side.BUY)
        pipe.xadd(key, {"s": seq, "e": encode_trade(ev)}, maxlen=2_000_000, approximate=True)
    pipe.execute()
    if rate:
        ahead = seq / rate - (time.perf_counter() - start)
        if ahead > 0:
            time.sleep(ahead)
"""


def _source(prefix: str) -> BusSource:
    cfg = config_from_dict(
        {
            "system": {"execution_mode": "paper"},
            "exchanges": {"enabled": ["x"]},
            "symbols": ["BTC/USDT"],
            "source": {
                "name": "redis_bus",
                "redis_bus": {"prefix": prefix, "consumer": "bench", "count": 2000},
            },
            "detector": {},
            "sinks": {"enabled": []},
        }
    )
    source = Bot(cfg, mode="paper").source
    assert isinstance(source, BusSource)
    return source


async def _consume(source: BusSource, n: int) -> tuple[float, list[float]]:
    lat: list[float] = []
    first = last = 0.0
    async for ev in source.aevents():
        now = time.time()
        if not lat:
            first = time.perf_counter()
        lat.append(now - ev.ts)
        if len(lat) >= n:
            last = time.perf_counter()
            break
    return n / (last - first) if last > first else 0.0, lat


def run(n: int, rate: float) -> tuple[float, float, float]:
    prefix = f"arbot-bench-{uuid.uuid4().hex[:8]}"
    source = _source(prefix)
    pub = subprocess.Popen([sys.executable, "-c", PUBLISHER, prefix, str(n), str(rate)])
    try:
        per_s, lat = asyncio.run(_consume(source, n))
    finally:
        pub.wait(timeout=300)
        client = redis.Redis.from_url(URL)
        client.delete(f"{prefix}:md:x")
        client.close()
    lat.sort()
    return per_s, statistics.median(lat) * 1e3, lat[int(len(lat) * 0.99)] * 1e3


def main() -> None:
    try:
        redis.Redis.from_url(URL).ping()
    except redis.ConnectionError as exc:
        print(f"redis bus: Redis not reachable on 127.0.0.1:6379 ({exc}); benchmark not run")
        return
    print("redis bus: trades from a publisher process to the redis_bus source (XREADGROUP, decode, XACK)")
    print(f"{'load':<28}{'events':>10}{'events/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for label, n, rate in (("full speed", 200_000, 0.0), ("paced 5 000/s", 25_000, 5_000.0)):
        per_s, p50, p99 = run(n, rate)
        print(f"{label:<28}{n:>10}{per_s:>12,.0f}{p50:>10.2f}{p99:>10.2f}")
    print("goal: >= 100 000 events/s with pipelining")


if __name__ == "__main__":
    main()
