"""Rate-limit policies of the TRD (§3.1), enforced per process, and subscription pacing.

Four policies, all with the same interface (:class:`RateLimitPolicy`):

* ``weight`` — a sliding window: the sum of request weights in the last ``window`` seconds
  stays at or below ``limit`` (Binance: 6000 weight / 60 s).
* ``count`` — the same with every request weighing 1 (Bybit, Upbit).
* ``per_endpoint`` — one count window per endpoint (OKX: 20 requests / 2 s per endpoint).
* ``token_bucket`` — ``capacity`` tokens refilled at ``refill_rate`` per second (Kraken).

:func:`shared_limiter` returns one limiter per venue for the whole process, so every client of
the same venue draws from the same budget; :func:`host_limiter` returns one per venue *host*
(the market-data connector and the trading gateways of a venue reach the same host, and the venue
counts the IP's requests there together), and :func:`key_limiter` one per host and API key for
venues that count private requests per key (every gateway signed with that key draws from it).
:class:`CombinedLimiter` books a request in several budgets at once (a private request of such a
venue: its IP's and its key's). :class:`SubscriptionPacer` paces outgoing WebSocket
control messages (Binance: 5 messages per second per connection).

Every policy has a non-blocking :meth:`RateLimitPolicy.reserve` (returns the seconds to wait
and books the cost) and an awaitable :meth:`RateLimitPolicy.acquire`; the clock is injectable
so tests run without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "CombinedLimiter",
    "CountLimiter",
    "PerEndpointLimiter",
    "RateLimitPolicy",
    "SubscriptionPacer",
    "TokenBucket",
    "WeightLimiter",
    "host_limiter",
    "host_of",
    "key_limiter",
    "policy_from_spec",
    "reset_shared_limiters",
    "shared_limiter",
]

Clock = Callable[[], float]


class RateLimitPolicy(ABC):
    """A request budget. ``reserve`` books a request and says how long to wait before sending."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._blocked_until = 0.0
        #: Requests that had to wait, and the total seconds waited (for metrics).
        self.throttled = 0
        self.waited = 0.0

    @abstractmethod
    def _reserve(self, now: float, cost: float, endpoint: str | None) -> float:
        """Book ``cost`` at the earliest time it fits; return the delay from ``now``."""

    def reserve(self, cost: float = 1.0, endpoint: str | None = None) -> float:
        """Book a request of ``cost`` now and return the seconds to wait before sending it."""
        now = self._clock()
        block = max(0.0, self._blocked_until - now)
        delay = max(block, self._reserve(now + block, cost, endpoint) + block)
        if delay > 0.0:
            self.throttled += 1
            self.waited += delay
        return delay

    async def acquire(self, cost: float = 1.0, endpoint: str | None = None) -> float:
        """Wait until a request of ``cost`` may be sent; returns the seconds waited."""
        delay = self.reserve(cost, endpoint)
        if delay > 0.0:
            await asyncio.sleep(delay)
        return delay

    def block(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (after a 429 / 418 with ``Retry-After``)."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def sync_used(self, used: float, endpoint: str | None = None) -> None:  # noqa: B027
        """Align with the venue's own count of the budget used (e.g. ``X-MBX-USED-WEIGHT-1M``).

        The default does nothing: only window policies can take the venue's count into account.
        """


class WeightLimiter(RateLimitPolicy):
    """Sliding window: the weights sent in the last ``window`` seconds sum to at most ``limit``."""

    def __init__(self, limit: float, window: float, clock: Clock = time.monotonic) -> None:
        super().__init__(clock)
        if limit <= 0 or window <= 0:
            raise ValueError("limit and window must be positive")
        self.limit = float(limit)
        self.window = float(window)
        self._events: deque[tuple[float, float]] = deque()  # (send time, cost), sorted
        self._used = 0.0

    def used(self) -> float:
        """Weight used in the current window."""
        self._expire(self._clock())
        return self._used

    def _expire(self, now: float) -> None:
        ev = self._events
        horizon = now - self.window
        while ev and ev[0][0] <= horizon:
            self._used -= ev.popleft()[1]

    def _reserve(self, now: float, cost: float, endpoint: str | None) -> float:
        if cost > self.limit:
            raise ValueError(f"a request of cost {cost} can never fit in a limit of {self.limit}")
        self._expire(now)
        at = now
        if self._used + cost > self.limit:
            # The earliest time at which enough of the booked weight has left the window.
            excess = self._used + cost - self.limit
            freed = 0.0
            for t, c in self._events:
                freed += c
                if freed >= excess - 1e-12:
                    at = max(now, t + self.window + 1e-9)  # strictly out of the window
                    break
            if self._events and at < self._events[-1][0]:
                at = self._events[-1][0]
        self._events.append((at, cost))
        self._used += cost
        return at - now

    def release(self, cost: float = 1.0) -> None:
        """Give back ``cost`` of the latest booking still in the window: the venue stopped
        counting that request (Binance decrements its unfilled-order count when an order fills)."""
        self._expire(self._clock())
        if not self._events:
            return
        at, booked = self._events.pop()
        if booked > cost:
            self._events.append((at, booked - cost))
        self._used -= min(booked, cost)

    def sync_used(self, used: float, endpoint: str | None = None) -> None:
        """Add phantom weight when the venue counts more than we booked (other processes)."""
        now = self._clock()
        self._expire(now)
        missing = used - self._used
        if missing > 0:
            self._events.append((now, missing))
            self._used += missing


class CountLimiter(WeightLimiter):
    """At most ``limit`` requests per ``window`` seconds, whatever their weight."""

    def _reserve(self, now: float, cost: float, endpoint: str | None) -> float:
        return super()._reserve(now, 1.0, endpoint)


class PerEndpointLimiter(RateLimitPolicy):
    """One count window per endpoint: ``limits[endpoint]`` or ``default_limit`` per ``window``."""

    def __init__(
        self,
        default_limit: int,
        window: float,
        limits: Mapping[str, int] | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self.default_limit = default_limit
        self.window = float(window)
        self.limits = dict(limits or {})
        self._windows: dict[str, CountLimiter] = {}

    def _window(self, endpoint: str) -> CountLimiter:
        w = self._windows.get(endpoint)
        if w is None:
            limit = self.limits.get(endpoint, self.default_limit)
            w = CountLimiter(limit, self.window, self._clock)
            self._windows[endpoint] = w
        return w

    def _reserve(self, now: float, cost: float, endpoint: str | None) -> float:
        return self._window(endpoint or "")._reserve(now, 1.0, endpoint)


class TokenBucket(RateLimitPolicy):
    """``capacity`` tokens, refilled continuously at ``refill_rate`` tokens per second."""

    def __init__(self, capacity: float, refill_rate: float, clock: Clock = time.monotonic) -> None:
        super().__init__(clock)
        if capacity <= 0 or refill_rate <= 0:
            raise ValueError("capacity and refill_rate must be positive")
        self.capacity = float(capacity)
        self.refill_rate = float(refill_rate)
        self._tokens = float(capacity)
        self._stamp = clock()

    def _reserve(self, now: float, cost: float, endpoint: str | None) -> float:
        if cost > self.capacity:
            raise ValueError(f"cost {cost} exceeds the bucket capacity {self.capacity}")
        if now > self._stamp:
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.refill_rate)
            self._stamp = now
        self._tokens -= cost  # may go negative: the debt is what later callers wait for
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.refill_rate


def policy_from_spec(spec: Mapping[str, Any], clock: Clock = time.monotonic) -> RateLimitPolicy:
    """Build a policy from the TRD's dict form (``{"type": "weight", "limit": 1200, ...}``)."""
    kind = spec.get("type")
    if kind == "weight":
        return WeightLimiter(spec["limit"], spec["window"], clock)
    if kind == "count":
        return CountLimiter(spec["limit"], spec["window"], clock)
    if kind == "per_endpoint":
        return PerEndpointLimiter(spec["default_limit"], spec["window"], spec.get("limits"), clock)
    if kind == "token_bucket":
        return TokenBucket(spec["capacity"], spec["refill_rate"], clock)
    raise ValueError(f"unknown rate-limit policy type {kind!r}")


class CombinedLimiter(RateLimitPolicy):
    """Every request is booked in each of ``parts``; it waits for the slowest. A 429/418 blocks
    them all (the venue said stop; which budget it counted is not known). Each part books the
    request at its own earliest time: when another part makes it wait, a faster part counts it
    up to that wait early, and may let a later request through as much sooner (a known limit of
    booking without an undo; the slowest part is exact)."""

    def __init__(self, *parts: RateLimitPolicy, clock: Clock = time.monotonic) -> None:
        super().__init__(clock)
        if not parts:
            raise ValueError("a combined limiter needs at least one part")
        self.parts = parts

    def _reserve(self, now: float, cost: float, endpoint: str | None) -> float:
        return max(part.reserve(cost, endpoint) for part in self.parts)

    def block(self, seconds: float) -> None:
        """Block every part for ``seconds``."""
        for part in self.parts:
            part.block(seconds)

    def sync_used(self, used: float, endpoint: str | None = None) -> None:
        """The venue's count is of its per-IP budget: the first part."""
        self.parts[0].sync_used(used, endpoint)


_shared: dict[str, RateLimitPolicy] = {}
_by_host: dict[tuple[str, str], RateLimitPolicy] = {}


def host_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (lower case): what a venue's per-IP budget is for."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def host_limiter(url: str, make: Callable[[], RateLimitPolicy]) -> RateLimitPolicy:
    """The process-wide limiter of the host of ``url``, made by ``make()`` the first time (the
    first client of a host sets its policy; later ones share it)."""
    key = (host_of(url), "")
    lim = _by_host.get(key)
    if lim is None:
        lim = _by_host[key] = make()
    return lim


def key_limiter(url: str, api_key: str, make: Callable[[], RateLimitPolicy]) -> RateLimitPolicy:
    """The process-wide limiter of one API key at the host of ``url`` (venues that count private
    requests per key or account), made by ``make()`` the first time."""
    if not api_key:
        raise ValueError("a per-key limiter needs an API key")
    key = (host_of(url), api_key)
    lim = _by_host.get(key)
    if lim is None:
        lim = _by_host[key] = make()
    return lim


def shared_limiter(venue: str, spec: Mapping[str, Any] | None = None) -> RateLimitPolicy:
    """The process-wide limiter of ``venue``, created from ``spec`` (the TRD's format) the
    first time; each venue's policy lives in its connector package."""
    lim = _shared.get(venue)
    if lim is None:
        if spec is None:
            raise KeyError(f"no rate-limit policy registered yet for venue {venue!r}: pass its spec")
        lim = policy_from_spec(spec)
        _shared[venue] = lim
    return lim


def reset_shared_limiters() -> None:
    """Forget every process-wide limiter (tests)."""
    _shared.clear()
    _by_host.clear()


class SubscriptionPacer:
    """Paces outgoing WebSocket control messages: at most ``rate`` per second, ``burst`` at once."""

    def __init__(self, rate: float, burst: int = 1, clock: Clock = time.monotonic) -> None:
        self._bucket = TokenBucket(max(1, burst), rate, clock)

    def reserve(self) -> float:
        """Book one message; seconds to wait before sending it."""
        return self._bucket.reserve(1.0)

    async def wait(self) -> None:
        """Wait until one more message may be sent."""
        await self._bucket.acquire(1.0)
