"""Two processes sharing one API key never exceed the venue's limit together: both hammer one
emulator through the Redis limiter; the emulator counts arrivals in a sliding window and answers
429 (and counts a violation) whenever the count would pass the limit."""

from __future__ import annotations

import asyncio
import collections
import sys
import time
from pathlib import Path

from aiohttp import web
from arbot.testing.emulator.server import EmulatorServer

HAMMER = Path(__file__).with_name("hammer.py")
LIMIT = 20
WINDOW_S = 1.0


class LimitedVenue(EmulatorServer):
    """A venue endpoint that allows ``LIMIT`` requests per ``WINDOW_S`` per API key."""

    venue = "limited"

    def __init__(self) -> None:
        super().__init__(tick_interval=None)
        self.arrivals: collections.deque[float] = collections.deque()
        self.accepted = 0
        self.violations = 0

    def routes(self) -> list[web.RouteDef]:
        """``GET /api/ping``."""
        return [web.get("/api/ping", self._ping)]

    async def _ping(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        while self.arrivals and self.arrivals[0] <= now - WINDOW_S:
            self.arrivals.popleft()
        if len(self.arrivals) >= LIMIT:
            self.violations += 1
            return web.Response(status=429, text="too many requests")
        self.arrivals.append(now)
        self.accepted += 1
        return web.Response(text="pong")


async def _hammer_together(url: str, prefix: str, duration: float) -> list[tuple[int, int]]:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, str(HAMMER), url, prefix, str(LIMIT), str(WINDOW_S), str(duration), "4",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]  # fmt: skip
    results = []
    for proc in procs:
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
        sent, rejected = map(int, out.split())
        results.append((sent, rejected))
    return results


def test_two_processes_never_exceed_the_shared_limit(redis_prefix: str) -> None:
    async def go() -> tuple[LimitedVenue, list[tuple[int, int]]]:
        venue = LimitedVenue()
        await venue.start()
        try:
            results = await _hammer_together(f"{venue.http_url}/api/ping", redis_prefix, 3.0)
        finally:
            await venue.stop()
        return venue, results

    venue, results = asyncio.run(go())
    assert venue.violations == 0, f"the venue saw more than {LIMIT} requests in {WINDOW_S} s"
    assert all(rejected == 0 for _, rejected in results)
    assert all(sent > 0 for sent, _ in results), "one process was starved"
    # both together used (nearly) the whole budget: 3 windows and the first burst
    assert venue.accepted == sum(sent for sent, _ in results) >= 2 * LIMIT


def test_without_a_shared_limit_the_venue_would_refuse(redis_prefix: str) -> None:
    """The same hammering, each process with its own budget: the venue counts violations.
    (Shows the emulator's check can fail: the shared key is what keeps the test above green.)"""

    async def go() -> LimitedVenue:
        venue = LimitedVenue()
        await venue.start()
        try:
            url = f"{venue.http_url}/api/ping"
            procs = [
                await asyncio.create_subprocess_exec(
                    sys.executable, str(HAMMER), url, f"{redis_prefix}-{i}",
                    str(LIMIT), str(WINDOW_S), "2", "4",
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                )
                for i in range(2)
            ]  # fmt: skip
            for proc in procs:
                await asyncio.wait_for(proc.communicate(), 120)
        finally:
            await venue.stop()
        return venue

    venue = asyncio.run(go())
    assert venue.violations > 0
