"""The statistical detector: bar sampling, estimation, entries and exits, engine wiring."""

from __future__ import annotations

import itertools
import tempfile
from typing import Any

import numpy as np
import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.errors import ArbotError
from arbot.events import ExecutionReport, Opportunity, Side
from arbot.market import BookHealth
from arbot_statistical import StatisticalDetector


def make_bot(detector: dict[str, Any], **extra: Any) -> Bot:
    cfg: dict[str, Any] = {
        "output_dir": tempfile.mkdtemp(prefix="arbot-stat-"),
        "system": {"execution_mode": "backtest"},
        "exchanges": {"enabled": ["a", "b"]},
        "source": {"name": "simulator", "simulator": {"venues": ["a", "b"]}},
        "symbols": ["X/USDT"],
        "detector": {"statistical": {"enabled": True, **detector}},
        "executor": {"name": "none"},
        "sinks": {"enabled": []},
        "risk": {"rules": []},
    }
    cfg.update(extra)
    return Bot(config_from_dict(cfg), mode="backtest")


SETTINGS = {
    "pairs": [["a:X/USDT", "b:X/USDT"]],
    "bar_interval_s": 1.0,
    "formation_periods": 200,
    "min_formation_periods": 100,
    "lookback_periods": 30,
    "reestimate_every": 50,
    "notional_usd": 1000.0,
}


def feed(bot: Bot, mids: np.ndarray) -> list[Opportunity]:
    """Two books per second (a at +0.1 s, b at +0.2 s), one level each side; returns what the
    detector emitted."""
    det = bot.detectors[0]
    market = bot.ctx.market
    out: list[Opportunity] = []
    for t in range(len(mids)):
        for k, venue in enumerate(("a", "b")):
            ts = 1_000_000.0 + t + 0.1 * (k + 1)
            m = float(mids[t, k])
            book = market.book(venue, "X/USDT")
            book.apply_snapshot(np.array([[m - 0.01, 5.0]]), np.array([[m + 0.01, 5.0]]), ts)
            market.set_health(venue, "X/USDT", BookHealth.LIVE)
            out.extend(det.on_book(venue, "X/USDT", ts))
    return out


def pair_path(seed: int, n: int, shocks: list[tuple[int, int, float]]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = 100.0 + np.cumsum(rng.normal(0, 0.05, n))
    noise = np.zeros(n)
    for t in range(1, n):
        noise[t] = 0.5 * noise[t - 1] + rng.normal(0, 0.01)
    b = a + 0.5 + noise
    for start, stop, size in shocks:
        b[start:stop] += size
    return np.column_stack((a, b))


def test_plugin_resolves_through_entry_point() -> None:
    bot = make_bot(SETTINGS)
    assert isinstance(bot.detectors[0], StatisticalDetector)
    assert list(bot.detectors[0].symbols()) == ["X/USDT"]


def test_bars_are_last_mid_before_the_boundary() -> None:
    mids = pair_path(0, 450, [])
    bot = make_bot(SETTINGS)
    feed(bot, mids)
    det = bot.detectors[0]
    hist = det.history()
    assert det.bars_closed == 449  # the last second's bar is still open
    np.testing.assert_allclose(hist, mids[449 - len(hist) : 449], rtol=0, atol=1e-9)
    assert det.keys == [("a", "X/USDT"), ("b", "X/USDT")]


def test_entry_then_exit_on_a_dislocation() -> None:
    mids = pair_path(1, 600, [(400, 412, 0.6)])  # b rich for 12 s: spread a - b very low
    bot = make_bot({**SETTINGS, "entry_zscore": 4.0})  # above the noise: only the shock trades
    opps = feed(bot, mids)
    assert opps, "the dislocation must produce an entry"
    actions = [o.metadata["action"] for o in opps]
    # entries and exits alternate, starting with an entry
    assert actions[0] == "entry"
    assert all(a != b for a, b in itertools.pairwise(actions))
    shock_entries = [o for o in opps if o.metadata["action"] == "entry" and 1_000_400 <= o.ts <= 1_000_413]
    assert shock_entries
    e = shock_entries[0]
    assert e.strategy == "statistical" and len(e.legs) == 2
    assert e.metadata["signal"] == "LONG_SPREAD" and e.metadata["zscore"] <= -2.0
    assert e.metadata["p_value"] < 0.05 and e.metadata["hedge_ratio"] == pytest.approx(1.0, abs=0.1)
    buy, sell = e.legs
    assert (buy.venue, buy.side) == ("a", Side.BUY) and (sell.venue, sell.side) == ("b", Side.SELL)
    assert buy.qty * buy.price == pytest.approx(1000.0, rel=1e-9)
    assert sell.qty == pytest.approx(e.metadata["hedge_ratio"] * buy.qty, rel=1e-12)
    assert buy.price == pytest.approx(mids[400, 0] + 0.01, abs=0.2)  # the current ask
    for o in opps:
        z = o.metadata["zscore"]
        if o.metadata["action"] == "entry":
            assert abs(z) >= 4.0
        else:
            assert abs(z) <= 0.5
    # every exit reverses the preceding entry's legs with the same quantities
    for entry, exit_ in zip(opps[::2], opps[1::2], strict=False):
        for le, lx in zip(entry.legs, exit_.legs, strict=True):
            assert (le.venue, le.symbol, le.qty) == (lx.venue, lx.symbol, lx.qty)
            assert le.side is not lx.side
    after = [o for o in opps if o.ts > e.ts]
    assert after and after[0].metadata["action"] == "exit"
    assert after[0].estimated_profit > 0  # the dislocation closed: the trade made money


def test_entries_only_while_cointegrated() -> None:
    rng = np.random.default_rng(3)
    mids = 100 + np.cumsum(rng.normal(0, 0.05, (500, 2)), axis=0)  # independent walks
    bot = make_bot(SETTINGS)
    opps = feed(bot, mids)
    det = bot.detectors[0]
    assert det.estimations == 8  # at bars 100, 150, ..., 450 (499 bars closed)
    for o in opps:
        if o.metadata["action"] == "entry":
            assert o.metadata["p_value"] < 0.05 and o.metadata["hedge_ratio"] > 0
    strict = make_bot({**SETTINGS, "p_value_threshold": 1e-4})
    assert feed(strict, mids) == []
    assert not strict.detectors[0].pairs[0].tradable


def test_reestimation_in_seconds() -> None:
    mids = pair_path(2, 500, [])
    bot = make_bot({**SETTINGS, "reestimate_unit": "seconds", "reestimate_every": 100.0})
    feed(bot, mids)
    det = bot.detectors[0]
    # first test at bar 100 (min_formation), then every 100 s: t = 200, 300, 400
    assert det.estimations == 4


def test_unfilled_entry_is_undone() -> None:
    mids = pair_path(1, 600, [(400, 412, 0.6)])
    bot = make_bot({**SETTINGS, "entry_zscore": 4.0})
    opps = feed(bot, mids[:402])
    det = bot.detectors[0]
    entry = next(o for o in opps if o.metadata["action"] == "entry")
    pair = det.pairs[0]
    assert pair.position != 0
    det.on_report(ExecutionReport(entry, (), entry.ts, 0.0, 0.0, "no leg filled"))
    assert pair.position == 0 and pair.legs == ()


def test_settings_validation() -> None:
    with pytest.raises(ArbotError):
        make_bot({**SETTINGS, "exit_zscore": 2.5})
    with pytest.raises(ArbotError):
        make_bot({**SETTINGS, "pairs": [["X/USDT", "b:X/USDT"]]})


def test_universe_pairs() -> None:
    bot = make_bot({"universe": "both", "bar_interval_s": 1.0}, symbols=["X/USDT", "Y/USDT"])
    names = sorted(p.name for p in bot.detectors[0].pairs)
    assert names == [
        "a:X/USDT~a:Y/USDT",
        "a:X/USDT~b:X/USDT",
        "a:Y/USDT~b:Y/USDT",
        "b:X/USDT~b:Y/USDT",
    ]


def test_runs_in_the_engine_on_the_simulator() -> None:
    """One symbol across two simulated venues (one latent price): the engine drives the
    detector through a backtest with the backtest executor."""
    bot = make_bot(
        {"universe": "cross_venue", "bar_interval_s": 2.0, "formation_periods": 300,
         "min_formation_periods": 150, "lookback_periods": 30, "reestimate_every": 100,
         "notional_usd": 500.0},
        exchanges={"enabled": ["binance", "okx"]},
        symbols=["BTC/USDT"],
        executor={"name": "backtest"},
        backtest={"seed": 5, "duration_s": 1800},
        source={"name": "simulator", "simulator": {"update_interval_ms": 500.0}},
    )
    summary = bot.run_backtest()
    det = bot.detectors[0]
    assert det.bars_closed > 800
    assert det.estimations >= 1 and det.pairs[0].p_value == det.pairs[0].p_value
    assert summary["events"] > 0


def test_stale_book_is_missing_in_bars() -> None:
    mids = pair_path(0, 300, [])
    bot = make_bot(SETTINGS)
    det = bot.detectors[0]
    market = bot.ctx.market
    for t in range(300):
        venues = ("a", "b") if t < 200 else ("a",)  # b stops quoting at t = 200
        for k, venue in enumerate(venues):
            ts = 1_000_000.0 + t + 0.1 * (k + 1)
            m = float(mids[t, k])
            market.book(venue, "X/USDT").apply_snapshot(
                np.array([[m - 0.01, 5.0]]), np.array([[m + 0.01, 5.0]]), ts
            )
            market.set_health(venue, "X/USDT", BookHealth.LIVE)
            det.on_book(venue, "X/USDT", ts)
    hist = det.history()
    # the last quote of b (t = 199.2) is at most 3 bar intervals old up to the close at 202.1
    assert not np.isnan(hist[:202]).any()
    assert np.isnan(hist[202:, 1]).all() and not np.isnan(hist[202:, 0]).any()
    assert np.isnan(det.pairs[0].z)  # no z-score (and no signal) on a stale pair
