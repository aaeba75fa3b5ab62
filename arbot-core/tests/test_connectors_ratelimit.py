"""Rate-limit policies with a fake clock: budgets are never exceeded, waits are minimal."""

from __future__ import annotations

import asyncio

import pytest
from arbot.connectors.ratelimit import (
    CountLimiter,
    PerEndpointLimiter,
    SubscriptionPacer,
    TokenBucket,
    WeightLimiter,
    policy_from_spec,
    reset_shared_limiters,
    shared_limiter,
)
from hypothesis import given, settings
from hypothesis import strategies as st


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_weight_window_waits_for_oldest_weight_to_expire() -> None:
    c = FakeClock()
    lim = WeightLimiter(100, 60, c)
    assert lim.reserve(50) == 0 and lim.reserve(50) == 0
    c.t += 10
    assert lim.reserve(20) == pytest.approx(50.0)  # the first 50 leave the window at +60
    assert lim.throttled == 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 5), st.integers(1, 40)), min_size=1, max_size=80))
def test_weight_window_never_over_budget(reqs: list[tuple[float, int]]) -> None:
    c = FakeClock()
    lim = WeightLimiter(100, 10, c)
    sends: list[tuple[float, int]] = []
    for gap, cost in reqs:
        c.t += gap
        sends.append((c.t + lim.reserve(cost), cost))
    times = sorted(t for t, _ in sends)
    assert times == [t for t, _ in sends]  # FIFO order is kept
    for t0, _ in sends:
        in_window = sum(w for t, w in sends if t0 - 10 < t <= t0)
        assert in_window <= 100


def test_count_ignores_weight_and_per_endpoint_is_separate() -> None:
    c = FakeClock()
    cnt = CountLimiter(2, 1, c)
    assert cnt.reserve(50) == 0 and cnt.reserve(50) == 0 and cnt.reserve(1) == pytest.approx(1)
    pe = PerEndpointLimiter(2, 2, {"/order": 1}, clock=c)
    assert pe.reserve(endpoint="/a") == 0 and pe.reserve(endpoint="/a") == 0
    assert pe.reserve(endpoint="/a") == pytest.approx(2)
    assert pe.reserve(endpoint="/b") == 0
    assert pe.reserve(endpoint="/order") == 0 and pe.reserve(endpoint="/order") == pytest.approx(2)


def test_token_bucket_refills() -> None:
    c = FakeClock()
    tb = TokenBucket(3, 0.5, c)
    assert [tb.reserve() for _ in range(3)] == [0, 0, 0]
    assert tb.reserve() == pytest.approx(2.0)
    assert tb.reserve() == pytest.approx(4.0)
    c.t += 10
    assert tb.reserve() == 0


def test_block_after_429_and_sync_used() -> None:
    c = FakeClock()
    lim = WeightLimiter(10, 60, c)
    lim.block(5)
    assert lim.reserve(1) == pytest.approx(5)
    lim2 = WeightLimiter(10, 60, c)
    lim2.sync_used(9)
    assert lim2.used() == 9
    assert lim2.reserve(2) == pytest.approx(60)


#: The TRD's policy formats (each venue's own policy lives in its connector package).
TRD_SPECS = [
    {"type": "weight", "limit": 6000, "window": 60},
    {"type": "count", "limit": 600, "window": 5},
    {"type": "per_endpoint", "default_limit": 20, "window": 2},
    {"type": "token_bucket", "capacity": 15, "refill_rate": 0.33},
]


def test_trd_specs_and_shared_per_process() -> None:
    for spec in TRD_SPECS:
        assert policy_from_spec(spec) is not None, spec
    with pytest.raises(ValueError):
        policy_from_spec({"type": "nope"})
    reset_shared_limiters()
    with pytest.raises(KeyError, match="binance"):
        shared_limiter("binance")
    weight = shared_limiter("binance", TRD_SPECS[0])
    assert shared_limiter("binance") is weight and isinstance(weight, WeightLimiter)
    assert shared_limiter("upbit", TRD_SPECS[1]) is not weight
    reset_shared_limiters()


def test_subscription_pacer_paces() -> None:
    c = FakeClock()
    p = SubscriptionPacer(5, burst=5, clock=c)
    delays = [p.reserve() for _ in range(7)]
    assert delays[:5] == [0] * 5
    assert delays[5] == pytest.approx(0.2) and delays[6] == pytest.approx(0.4)


def test_acquire_sleeps() -> None:
    async def main() -> float:
        lim = TokenBucket(1, 50)
        await lim.acquire()
        return await lim.acquire()

    assert asyncio.run(main()) > 0


def test_host_and_key_limiters_are_one_per_host_and_per_key() -> None:
    from arbot.connectors.ratelimit import host_limiter, host_of, key_limiter

    reset_shared_limiters()
    made: list[CountLimiter] = []

    def make() -> CountLimiter:
        made.append(CountLimiter(5, 1.0))
        return made[-1]

    a = host_limiter("https://API.Venue.example/api/v4", make)
    assert host_limiter("https://api.venue.example", make) is a and len(made) == 1  # same host
    assert host_limiter("https://api.venue.example:8443", make) is not a  # another port
    k1 = key_limiter("https://api.venue.example", "key1", make)
    assert key_limiter("https://api.venue.example/x", "key1", make) is k1
    assert key_limiter("https://api.venue.example", "key2", make) is not k1 and k1 is not a
    assert host_of("HTTP://Host:80/path?q=1") == "http://host:80"
    with pytest.raises(ValueError):
        key_limiter("https://api.venue.example", "", make)
    reset_shared_limiters()
    assert host_limiter("https://api.venue.example", make) is not a


def test_combined_limiter_waits_for_the_slowest_part_and_books_in_each() -> None:
    from arbot.connectors.ratelimit import CombinedLimiter

    clock = FakeClock()
    host = CountLimiter(10, 1.0, clock)
    key = CountLimiter(2, 1.0, clock)
    both = CombinedLimiter(host, key, clock=clock)
    assert both.reserve() == 0.0 and both.reserve() == 0.0
    assert both.reserve() == pytest.approx(1.0, abs=1e-6)  # the key's budget is spent
    assert host.used() == 3 and key.used() == 3  # booked in both
    both.block(5.0)
    assert host.reserve() >= 5.0 and key.reserve() >= 5.0
    with pytest.raises(ValueError):
        CombinedLimiter()
