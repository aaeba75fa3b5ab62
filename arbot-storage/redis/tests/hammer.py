"""One client process of the shared-rate-limit test: hammers URL for DURATION seconds with
CONCURRENCY tasks, each request admitted by the Redis limiter shared under PREFIX.

    python hammer.py URL PREFIX LIMIT WINDOW_S DURATION CONCURRENCY
Prints the number of requests sent and the number the server answered 429.
"""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp
import redis.asyncio as aioredis
from arbot_redis.ratelimit import RedisRateLimiter


async def main(url: str, prefix: str, limit: int, window_s: float, duration: float, concurrency: int) -> None:
    client = aioredis.Redis.from_url("redis://127.0.0.1:6379/0")
    limiter = RedisRateLimiter(client, "emulator-key", limit, window_s, prefix=prefix)
    sent = rejected = 0
    stop = time.monotonic() + duration
    async with aiohttp.ClientSession() as http:

        async def worker() -> None:
            nonlocal sent, rejected
            while time.monotonic() < stop:
                await limiter.acquire()
                async with http.get(url) as resp:
                    await resp.read()
                    sent += 1
                    rejected += resp.status == 429

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    await client.aclose()
    print(sent, rejected, flush=True)


if __name__ == "__main__":
    u, p, lim, win, dur, conc = sys.argv[1:7]
    asyncio.run(main(u, p, int(lim), float(win), float(dur), int(conc)))
