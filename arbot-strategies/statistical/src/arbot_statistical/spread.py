"""Spread statistics of a pair: hedge ratio, half-life of mean reversion, z-scores, signals."""

from __future__ import annotations

import enum
import math

import numpy as np
import numpy.typing as npt

__all__ = [
    "Signal",
    "generate_signal",
    "half_life",
    "hedge_ratio",
    "rolling_zscore",
    "spread_series",
    "zscore",
]

FloatArray = npt.NDArray[np.float64]


def hedge_ratio(y: npt.ArrayLike, x: npt.ArrayLike) -> tuple[float, float]:
    """OLS of ``y`` on ``x`` with a constant: ``(beta, alpha)`` with ``y ~ alpha + beta * x``."""
    ya = np.asarray(y, dtype=np.float64)
    xa = np.asarray(x, dtype=np.float64)
    if ya.shape != xa.shape or ya.ndim != 1 or len(ya) < 2:
        raise ValueError("y and x must be 1-d arrays of the same length (>= 2)")
    xc = xa - xa.mean()
    sxx = float(xc @ xc)
    if sxx == 0.0:
        raise ValueError("x is constant")
    beta = float(xc @ (ya - ya.mean())) / sxx
    return beta, float(ya.mean() - beta * xa.mean())


def spread_series(y: npt.ArrayLike, x: npt.ArrayLike, beta: float, alpha: float = 0.0) -> FloatArray:
    """``y - beta * x - alpha``."""
    return np.asarray(y, dtype=np.float64) - beta * np.asarray(x, dtype=np.float64) - alpha


def half_life(spread: npt.ArrayLike) -> float:
    """Half-life of mean reversion in observations, from the AR(1) fit
    ``s_t - s_{t-1} = c + b * s_{t-1}``: ``ln(0.5) / ln(|1 + b|)``; inf when ``|1 + b| >= 1``
    (no mean reversion)."""
    s = np.asarray(spread, dtype=np.float64)
    if s.ndim != 1 or len(s) < 3:
        raise ValueError("spread must be a 1-d array of at least 3 points")
    lagged = s[:-1]
    ds = np.diff(s)
    lc = lagged - lagged.mean()
    denom = float(lc @ lc)
    if denom == 0.0:
        return math.nan
    b = float(lc @ (ds - ds.mean())) / denom
    phi = abs(1.0 + b)
    if phi >= 1.0:
        return math.inf
    if phi == 0.0:
        return 0.0
    return math.log(0.5) / math.log(phi)


def rolling_zscore(spread: npt.ArrayLike, lookback: int = 60) -> FloatArray:
    """Z-score of each point against the ``lookback`` points ending at it (inclusive), with the
    sample standard deviation (``ddof=1``, as ``pandas.Series.rolling(...).std()``); NaN for the
    first ``lookback - 1`` points and where the window is flat."""
    s = np.asarray(spread, dtype=np.float64)
    if lookback < 2:
        raise ValueError("lookback must be >= 2")
    out = np.full(len(s), np.nan)
    if len(s) < lookback:
        return out
    win = np.lib.stride_tricks.sliding_window_view(s, lookback)
    mean = win.mean(axis=1)
    std = win.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (s[lookback - 1 :] - mean) / std
    out[lookback - 1 :] = np.where(std > 0.0, z, np.nan)
    return out


def zscore(spread: npt.ArrayLike, lookback: int = 60) -> float:
    """The TRD's ``calculate_zscore``: z-score of the last point against the last ``lookback``
    points (NaN when there are fewer points or the window is flat)."""
    s = np.asarray(spread, dtype=np.float64)
    if lookback < 2:
        raise ValueError("lookback must be >= 2")
    if len(s) < lookback:
        return math.nan
    w = s[-lookback:]
    sd = float(w.std(ddof=1))
    if sd == 0.0:
        return math.nan
    return float((w[-1] - w.mean()) / sd)


class Signal(enum.StrEnum):
    """What the z-score says to do with a pair's spread ``y - beta * x``."""

    #: spread rich: sell ``y``, buy ``x``
    SHORT_SPREAD = "SHORT_SPREAD"
    #: spread cheap: buy ``y``, sell ``x``
    LONG_SPREAD = "LONG_SPREAD"
    #: close the open position
    EXIT = "EXIT"
    HOLD = "HOLD"


def generate_signal(
    z: float,
    entry_threshold: float = 2.0,
    exit_threshold: float = 0.5,
    position: int = 0,
) -> Signal:
    """The TRD's ``generate_signal``. ``position`` is the current spread position (+1 long,
    -1 short, 0 flat). Flat: enter when ``|z| >= entry_threshold`` (short when z is high).
    In a position: exit when ``|z| <= exit_threshold``, otherwise hold."""
    if z != z:
        return Signal.HOLD
    if position == 0:
        if z >= entry_threshold:
            return Signal.SHORT_SPREAD
        if z <= -entry_threshold:
            return Signal.LONG_SPREAD
        return Signal.HOLD
    if abs(z) <= exit_threshold:
        return Signal.EXIT
    return Signal.HOLD
