"""Redis Streams bus: events/s from a feed process (the ``redis_bus`` sink, as ``arbot run
--role feed`` runs it) to the engine side in this process (the ``redis_bus`` source: XREADGROUP,
decode, XACK), and the latency the bus adds (emit in the feed -> handed to the engine), at full
speed and paced at 5 000 events/s. The peer is the same bus with one event per stream entry
(``events_per_entry = 1``, the layout before packing): the ratio is packed / one per entry.
Needs Redis on 127.0.0.1:6379.

    python benchmarks/bench_redis_bus.py [N]      # N events at full speed (default 200 000)
"""

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

FEED = r"""
import sys, time
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import Side, TradeTick
prefix, n, rate, per_entry = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
cfg = config_from_dict({
    "output_dir": f"/tmp/{prefix}", "system": {"execution_mode": "paper"}, "exchanges": {"enabled": ["x"]},
    "symbols": ["BTC/USDT"], "source": {"name": "simulator", "simulator": {"venues": ["x"]}}, "detector": {},
    "sinks": {"enabled": ["redis_bus"], "redis_bus": {"prefix": prefix, "events_per_entry": per_entry,
                                                      "max_buffer": 10 * n}},
})
sink = Bot(cfg, mode="paper").sinks[0]
sink.start()
start = time.perf_counter()
for seq in range(1, n + 1):
    sink.emit(TradeTick(time.time(), "x", "BTC/USDT", 60000.0, 0.01, Side.BUY))
    if rate and seq % 50 == 0:
        ahead = seq / rate - (time.perf_counter() - start)
        if ahead > 0:
            time.sleep(ahead)
sink.close()
stats = sink.stats()
assert stats["written"] == n and stats["lost"] == 0 and stats["spilled"] == 0, stats
"""


def _source(prefix: str) -> BusSource:
    cfg = config_from_dict(
        {
            "system": {"execution_mode": "paper"},
            "exchanges": {"enabled": ["x"]},
            "symbols": ["BTC/USDT"],
            "source": {"name": "redis_bus", "redis_bus": {"prefix": prefix, "consumer": "bench"}},
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
    return (n - 1) / (last - first) if last > first else 0.0, lat


def run(n: int, rate: float, per_entry: int, filled_first: bool = False) -> tuple[float, float, float, int]:
    """events/s, p50 and p99 ms, lost events of ``n`` events through the bus (``filled_first``:
    the feed writes them all before the engine side starts: its own pace alone)."""
    prefix = f"arbot-bench-{uuid.uuid4().hex[:8]}"
    source = _source(prefix)
    feed = subprocess.Popen([sys.executable, "-c", FEED, prefix, str(n), str(rate), str(per_entry)])
    code = feed.wait(timeout=600) if filled_first else None
    try:
        per_s, lat = asyncio.run(_consume(source, n))
    finally:
        code = feed.wait(timeout=600) if code is None else code
        client = redis.Redis.from_url(URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()
    if code != 0:
        raise SystemExit(f"feed process failed (exit {code})")
    lat.sort()
    return per_s, statistics.median(lat) * 1e3, lat[int(len(lat) * 0.99)] * 1e3, source.stats()["lost"]


def main() -> None:
    try:
        redis.Redis.from_url(URL).ping()
    except redis.ConnectionError as exc:
        print(f"redis bus: Redis not reachable on 127.0.0.1:6379 ({exc}); benchmark not run")
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    print("redis bus: trades from a feed process (redis_bus sink) to the redis_bus source")
    print(f"{'load':<18}{'layout':<22}{'events':>9}{'events/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'lost':>6}")
    for label, count, rate in (("full speed", n, 0.0), ("paced 5 000/s", 25_000, 5_000.0)):
        rows = {}
        for layout, per_entry in (("1 event per entry", 1), ("packed (256/entry)", 256)):
            rows[layout] = run(count, rate, per_entry)
            per_s, p50, p99, lost = rows[layout]
            print(f"{label:<18}{layout:<22}{count:>9}{per_s:>11,.0f}{p50:>9.2f}{p99:>9.2f}{lost:>6}")
        one, packed = rows["1 event per entry"][0], rows["packed (256/entry)"][0]
        if rate == 0 and one > 0:
            print(f"{'':<18}packed / one per entry: {packed / one:.1f}x events/s")
    rows = {}
    for layout, per_entry in (("1 event per entry", 1), ("packed (256/entry)", 256)):
        rows[layout] = run(n, 0.0, per_entry, filled_first=True)
        per_s = rows[layout][0]
        print(f"{'engine side alone':<18}{layout:<22}{n:>9}{per_s:>11,.0f}{'':>9}{'':>9}{rows[layout][3]:>6}")
    one, packed = rows["1 event per entry"][0], rows["packed (256/entry)"][0]
    print(f"{'':<18}packed / one per entry: {packed / one:.1f}x events/s (stream filled first, then read)")
    print("goal: >= 100 000 events/s feed -> engine with pipelining")


if __name__ == "__main__":
    main()
