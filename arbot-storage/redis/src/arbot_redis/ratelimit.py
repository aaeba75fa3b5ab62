"""A rate limit shared by every process using one API key: a sliding-window log in Redis,
checked and booked by one Lua script (atomic on the server), so two processes together never
send more than ``limit`` request weight in any ``window_s``.

The window the script enforces is ``window_s + margin_s``: requests leave the client a moment
after they are admitted, and the margin absorbs that jitter, so the venue — which counts
arrivals — sees at most ``limit`` in any of its own windows.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["SCRIPT", "RedisRateLimiter"]

#: KEYS[1]: the log (a sorted set of admission times in ms); KEYS[2]: a member counter.
#: ARGV: limit, window in ms, weight. Returns 0 when admitted, else the ms to wait.
SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local weight = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used + weight > limit then
  local k = used + weight - limit - 1
  local oldest = redis.call('ZRANGE', KEYS[1], k, k, 'WITHSCORES')
  local wait = window - (now - tonumber(oldest[2])) + 1
  if wait < 1 then wait = 1 end
  return wait
end
for i = 1, weight do
  local n = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now, tostring(now) .. ':' .. tostring(n))
end
redis.call('PEXPIRE', KEYS[1], window + 1000)
redis.call('PEXPIRE', KEYS[2], window + 1000)
return 0
"""


class RedisRateLimiter:
    """``await limiter.acquire(weight)`` returns when the shared budget admits the request."""

    def __init__(
        self,
        redis: Any,
        name: str,
        limit: int,
        window_s: float,
        *,
        margin_s: float = 0.05,
        prefix: str = "arbot",
    ) -> None:
        if limit < 1 or window_s <= 0 or margin_s < 0:
            raise ValueError(f"rate limit {name!r}: limit >= 1, window_s > 0 and margin_s >= 0 required")
        self._redis = redis
        self.limit = limit
        self.window_ms = round((window_s + margin_s) * 1000)
        self._keys = [f"{prefix}:rl:{name}", f"{prefix}:rl:{name}:n"]
        self._script = redis.register_script(SCRIPT)
        self.waits = 0

    async def acquire(self, weight: int = 1) -> None:
        """Wait until ``weight`` units fit in the shared window, and book them."""
        if weight > self.limit:
            raise ValueError(f"a request of weight {weight} can never fit a limit of {self.limit}")
        while True:
            wait_ms = int(await self._script(keys=self._keys, args=[self.limit, self.window_ms, weight]))
            if wait_ms == 0:
                return
            self.waits += 1
            await asyncio.sleep(wait_ms / 1000.0)
