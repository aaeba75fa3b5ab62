"""Hedge ratio, half-life, z-scores and signals."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from arbot_statistical import (
    Signal,
    coint_scan,
    generate_signal,
    half_life,
    hedge_ratio,
    rolling_zscore,
    spread_series,
    zscore,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def test_hedge_ratio_matches_polyfit() -> None:
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=500)) + 100
    y = 1.7 * x + 3 + rng.normal(size=500)
    beta, alpha = hedge_ratio(y, x)
    b_ref, a_ref = np.polyfit(x, y, 1)
    assert beta == pytest.approx(b_ref, rel=1e-10) and alpha == pytest.approx(a_ref, rel=1e-9)
    spread = spread_series(y, x, beta, alpha)
    assert abs(spread.mean()) < 1e-9
    with pytest.raises(ValueError):
        hedge_ratio(y, np.ones(500))


def test_half_life_recovers_ar1() -> None:
    rng = np.random.default_rng(1)
    phi = 0.9
    s = np.zeros(50_000)
    for t in range(1, len(s)):
        s[t] = phi * s[t - 1] + rng.normal()
    assert half_life(s) == pytest.approx(math.log(0.5) / math.log(phi), rel=0.05)
    assert half_life(np.arange(100.0)) == math.inf  # a trend never reverts


def test_half_life_random_walk_is_slow_and_scan_agrees() -> None:
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.normal(size=3000)) + 100
    y = 0.5 * x + rng.normal(size=3000) * 2
    res = coint_scan(np.column_stack((y, x)))
    beta, alpha = hedge_ratio(y, x)
    assert res.hedge_ratio[0] == pytest.approx(beta, rel=1e-9)
    assert res.intercept[0] == pytest.approx(alpha, rel=1e-7, abs=1e-9)
    assert res.half_life[0] == pytest.approx(half_life(spread_series(y, x, beta, alpha)), rel=1e-7)
    walk = np.cumsum(rng.normal(size=3000))
    assert half_life(walk) > 50 * res.half_life[0]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), lookback=st.integers(2, 40), n=st.integers(1, 120))
def test_rolling_zscore_matches_polars(seed: int, lookback: int, n: int) -> None:
    s = np.random.default_rng(seed).normal(size=n).cumsum()
    ours = rolling_zscore(s, lookback)
    ser = pl.Series(s)
    ref = ((ser - ser.rolling_mean(lookback)) / ser.rolling_std(lookback, ddof=1)).to_numpy()
    np.testing.assert_allclose(ours, ref.astype(float), rtol=1e-9, atol=1e-9, equal_nan=True)
    last = zscore(s, lookback)
    if n >= lookback:
        assert last == pytest.approx(ours[-1], rel=1e-12)
    else:
        assert math.isnan(last)


def test_zscore_flat_window_is_nan() -> None:
    assert math.isnan(zscore(np.ones(60), 60))
    assert np.isnan(rolling_zscore(np.ones(70), 60)).all()


@pytest.mark.parametrize(
    ("z", "position", "expected"),
    [
        (2.5, 0, Signal.SHORT_SPREAD),
        (2.0, 0, Signal.SHORT_SPREAD),
        (-2.1, 0, Signal.LONG_SPREAD),
        (1.9, 0, Signal.HOLD),
        (0.4, 1, Signal.EXIT),
        (-0.5, -1, Signal.EXIT),
        (1.0, -1, Signal.HOLD),
        (3.0, 1, Signal.HOLD),
        (float("nan"), 0, Signal.HOLD),
        (0.1, 0, Signal.HOLD),
    ],
)
def test_generate_signal(z: float, position: int, expected: Signal) -> None:
    assert generate_signal(z, 2.0, 0.5, position) is expected
