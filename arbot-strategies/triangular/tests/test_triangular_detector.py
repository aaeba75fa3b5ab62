"""The detector inside the engine: incremental re-pricing, legs, sizing, a simulated backtest."""

from __future__ import annotations

import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import BookUpdate, Side


def _bot(tmp_path, **detector):
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance"]},
            "symbols": ["BTC/USDT", "ETH/USDT", "ETH/BTC"],
            "detector": {
                "triangular": {"enabled": True, "min_profit_pct": 0.15, "min_depth_usd": 1, **detector}
            },
            "executor": {"name": "none"},
            "risk": {"rules": []},
            "sinks": {"enabled": []},
        }
    )
    bot = Bot(cfg, mode="backtest")
    records = []
    bot.engine._record = records.append  # type: ignore[method-assign]
    return bot, records


def ev(ts, symbol, bid, ask, qty=10.0):
    return BookUpdate(ts, "binance", symbol, [(bid, qty)], [(ask, qty)], True, ts)


def test_a_mispriced_cross_rate_is_found_with_executable_legs(tmp_path):
    bot, records = _bot(tmp_path)
    e = bot.engine
    e.process(ev(1.0, "BTC/USDT", 99.9, 100.0, 1.0))
    e.process(ev(1.1, "ETH/USDT", 5.1, 5.11, 30.0))
    assert records == []
    e.process(ev(1.2, "ETH/BTC", 0.0499, 0.05, 100.0))  # 1/100 / 0.05 * 5.1 = 1.02 gross
    assert len(records) == 1
    opp = records[0].opportunity
    assert opp.strategy == "triangular" and opp.metadata["start"] == "USDT"
    assert [(leg.symbol, leg.side) for leg in opp.legs] == [
        ("BTC/USDT", Side.BUY),
        ("ETH/BTC", Side.BUY),
        ("ETH/USDT", Side.SELL),
    ]
    fees = 0.001
    net = 1.02 * (1 - fees) / (1 + fees) ** 2
    assert opp.net_spread_pct == pytest.approx((net - 1) * 100)
    assert opp.gross_spread_pct == pytest.approx(2.0)
    assert opp.depth_usd == pytest.approx(100.1)
    assert opp.estimated_profit == pytest.approx(100.1 * (net - 1))
    assert opp.legs[0].qty == pytest.approx(1.0) and opp.legs[2].qty == pytest.approx(opp.legs[1].qty)


def test_only_cycles_through_the_changed_market_are_priced(tmp_path, monkeypatch):
    bot, _ = _bot(tmp_path)
    det = bot.detectors[0]
    e = bot.engine
    e.process(ev(1.0, "BTC/USDT", 99.9, 100.0))
    state = det._state("binance")
    assert state is not None and len(state.cycles) == 2
    calls = []
    original = state.candidates

    def spy(market, threshold):
        calls.append(state.graph.markets[market].symbol)
        return original(market, threshold)

    monkeypatch.setattr(state, "candidates", spy)
    e.process(ev(1.1, "ETH/USDT", 5.0, 5.01))
    e.process(ev(1.2, "SOL/USDT", 5.0, 5.01))  # not in the graph: nothing priced
    assert calls == ["ETH/USDT"]


def test_stale_or_resyncing_leg_blocks_the_cycle(tmp_path):
    bot, records = _bot(tmp_path, max_latency_ms=500)
    e = bot.engine
    e.process(ev(1.0, "BTC/USDT", 99.9, 100.0))
    e.process(ev(1.1, "ETH/USDT", 5.1, 5.11, 30.0))
    bot.ctx.market.set_health("binance", "ETH/USDT", "resyncing")
    e.process(ev(1.2, "ETH/BTC", 0.0499, 0.05, 100.0))
    assert records == []
    bot.ctx.market.set_health("binance", "ETH/USDT", "live")
    e.process(ev(5.0, "ETH/BTC", 0.0499, 0.05, 100.0))  # the other books are now 4 s old
    assert records == []


def test_explicit_paths_limit_the_graph(tmp_path):
    bot, _ = _bot(tmp_path, paths=[["BTC/USDT", "ETH/BTC", "ETH/USDT"]])
    det = bot.detectors[0]
    assert set(det.symbols()) == {"BTC/USDT", "ETH/BTC", "ETH/USDT"}
    state = det._state("binance")
    assert state is not None and {c.assets for c in state.cycles} == {
        ("USDT", "BTC", "ETH"),
        ("USDT", "ETH", "BTC"),
    }


def test_simulated_backtest_executes_triangles(tmp_path):
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance"]},
            "symbols": ["BTC/USDT", "ETH/USDT", "ETH/BTC"],
            "backtest": {"seed": 3, "duration_s": 600},
            "source": {"name": "simulator", "settings": {"dislocations_per_hour": 120}},
            "detector": {"triangular": {"enabled": True, "min_profit_pct": 0.1}},
            "sinks": {"enabled": []},
        }
    )
    summary = Bot(cfg, mode="backtest").run_backtest()
    assert summary["detected"] > 0
    assert summary["executed"] > 0
