"""The market simulator generates its series lazily: the events do not depend on how it is cut."""

from __future__ import annotations

import numpy as np
import pytest
from arbot.bot import Bot
from arbot.events import BookUpdate
from arbot.sources import simulator


def _source(make_config):
    cfg = make_config(
        {
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance", "upbit"]},
            "symbols": ["BTC/USDT", "ETH/BTC", "BTC/KRW"],
            "backtest": {"seed": 5, "duration_s": 95.5},
            "source": {
                "name": "simulator",
                "simulator": {
                    "update_interval_ms": 50,
                    "depth_levels": 3,
                    "max_lag_ms": 700,
                    "dislocations_per_hour": 400,
                    "venue_symbols": {"upbit": ["BTC/KRW", "BTC/USDT"]},
                },
            },
            "detector": {},
            "executor": {"name": "none"},
            "sinks": {"enabled": []},
        }
    )
    return Bot(cfg, mode="backtest").source


def _flat(events):
    out = []
    for ev in events:
        if type(ev) is BookUpdate:
            out.append((ev.ts, ev.venue, ev.symbol, ev.bids.tobytes(), ev.asks.tobytes()))
        else:
            out.append(ev)
    return out


def test_events_do_not_depend_on_window_or_chunk_size(make_config, monkeypatch):
    """Cutting the series into other windows and draw chunks (running sums carried across chunk
    boundaries, one stream's times computed ahead of another's) gives the same events, bit for bit."""
    reference = _flat(_source(make_config).events())
    assert len(reference) > 5_000
    source = _source(make_config)
    monkeypatch.setattr(simulator, "_CHUNK", 97)
    windows = source._windows

    def small_windows(window_s: float = 30.0):
        return windows(window_s=1.3)

    monkeypatch.setattr(source, "_windows", small_windows)
    assert _flat(source.events()) == reference
    assert source.size_hint() == len(reference)


def test_time_order_and_repeatability(make_config):
    source = _source(make_config)
    first = _flat(source.events())
    assert _flat(source.events()) == first  # the same source replays the same series
    ts = [e[0] if isinstance(e, tuple) else e.ts for e in first]
    assert ts == sorted(ts)
    assert ts[0] >= source.start and ts[-1] <= source.start + source.duration


def test_latent_path_memory_is_bounded():
    """However long the series, a latent path holds a window of the 10 ms grid, not all of it."""
    state = np.random.default_rng(1)
    path = simulator._LatentPath(100.0, 1e-4, 180_002, state)  # half an hour of 10 ms steps
    held = 0
    for low in range(0, path.n_grid - 5_000, 20_000):
        path.cover(low, low + 5_000)
        path.forget_before(low)
        held = max(held, len(path.values))
    assert held <= 5_001 + simulator._CHUNK
    with pytest.raises(RuntimeError, match="already forgotten"):
        path.cover(0, 10)


def test_latent_path_equals_the_whole_series_drawn_at_once(monkeypatch):
    """Chunked generation carries the running sum exactly: the same floats as one cumsum."""
    monkeypatch.setattr(simulator, "_CHUNK", 1_000)
    sigma = 3e-5
    state = np.random.default_rng(9)
    steps = np.random.Generator(np.random.PCG64(9)).normal(-0.5 * sigma * sigma, sigma, 10_000)
    steps[0] = 0.0
    whole = 250.0 * np.exp(np.cumsum(steps))
    path = simulator._LatentPath(250.0, sigma, 10_000, state)
    path.cover(0, 9_999)
    assert np.array_equal(path.at(np.arange(10_000)), whole)
