"""The detector inside the engine: incremental re-pricing, legs, sizing, a simulated backtest."""

from __future__ import annotations

import attrs
import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import BookUpdate, Side
from arbot.market import MarketInfo


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
    # the simulator lists every market with min_notional = 5 quote units (5 BTC on ETH/BTC):
    # use Binance's real minimums instead
    for sym, minimum in (("BTC/USDT", 10.0), ("ETH/USDT", 10.0), ("ETH/BTC", 0.0001)):
        info = bot.ctx.market.market("binance", sym)
        assert info is not None
        bot.ctx.market.add_market(attrs.evolve(info, min_notional=minimum))
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


@pytest.mark.parametrize("dislocations", [120, 0])
def test_simulated_backtest_executes_triangles(tmp_path, dislocations):
    """Dislocations of one market open triangles; without them cross rates stay consistent."""
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance"]},
            "symbols": ["BTC/USDT", "ETH/USDT", "ETH/BTC"],
            "backtest": {"seed": 3, "duration_s": 600},
            "source": {"name": "simulator", "simulator": {"dislocations_per_hour": dislocations}},
            "detector": {
                "triangular": {"enabled": True, "min_profit_pct": 0.1}
            },
            "sinks": {"enabled": []},
        }
    )
    summary = Bot(cfg, mode="backtest").run_backtest()
    if dislocations:
        assert summary["detected"] > 0
        assert summary["executed"] > 0
    else:
        assert summary["detected"] == 0


def _feed_mispriced(e, t=1.0):
    e.process(ev(t, "BTC/USDT", 99.9, 100.0, 1.0))
    e.process(ev(t + 0.1, "ETH/USDT", 5.1, 5.11, 30.0))
    e.process(ev(t + 0.2, "ETH/BTC", 0.0499, 0.05, 100.0))


def test_a_leg_below_its_market_minimum_drops_the_cycle(tmp_path):
    bot, records = _bot(tmp_path)
    info = bot.ctx.market.market("binance", "ETH/BTC")
    bot.ctx.market.add_market(attrs.evolve(info, min_notional=2.0))  # the ETH/BTC leg is ~1 BTC
    _feed_mispriced(bot.engine)
    assert records == []
    bot2, records2 = _bot(tmp_path / "off", check_order_minimums=False)
    bot2.ctx.market.add_market(attrs.evolve(info, min_notional=2.0))
    _feed_mispriced(bot2.engine)
    assert len(records2) == 1


def test_venue_setting_limits_the_venues(tmp_path):
    bot, records = _bot(tmp_path, venue="okx")
    _feed_mispriced(bot.engine)
    assert records == []
    bot, records = _bot(tmp_path / "b", venue=["okx", "binance"])
    _feed_mispriced(bot.engine)
    assert len(records) == 1


def test_start_assets_filter_and_rotate(tmp_path):
    bot, records = _bot(tmp_path, start_assets=["BTC"])
    _feed_mispriced(bot.engine)
    state = bot.detectors[0]._state("binance")
    assert {c.assets for c in state.cycles} == {("BTC", "ETH", "USDT"), ("BTC", "USDT", "ETH")}
    assert len(records) == 1
    opp = records[0].opportunity
    assert opp.metadata["path"] == "BTC>ETH>USDT>BTC"
    assert [leg.symbol for leg in opp.legs] == ["ETH/BTC", "ETH/USDT", "BTC/USDT"]
    # 1 BTC at the BTC/USDT ask of 100 is the binding level, now on the last leg
    assert opp.legs[2].side == Side.BUY and opp.legs[2].qty == pytest.approx(1.0)
    # profit in USD is the same cycle's profit measured from BTC: it is positive and sized
    assert opp.estimated_profit > 0 and opp.depth_usd > 0
    bot, records = _bot(tmp_path / "sol", start_assets=["SOL"])
    _feed_mispriced(bot.engine)
    assert records == [] and bot.detectors[0]._state("binance").cycles == []


def test_books_present_before_the_first_update_are_priced(tmp_path):
    bot, records = _bot(tmp_path)
    market = bot.ctx.market
    for sym, bid, ask, qty in (("BTC/USDT", 99.9, 100.0, 1.0), ("ETH/USDT", 5.1, 5.11, 30.0)):
        market.book("binance", sym).apply_snapshot([(bid, qty)], [(ask, qty)], 1.0)
        market.set_health("binance", sym, "live")
    bot.engine.process(ev(1.2, "ETH/BTC", 0.0499, 0.05, 100.0))
    assert len(records) == 1


def test_a_market_listed_later_rebuilds_the_graph(tmp_path):
    bot, records = _bot(tmp_path)
    e = bot.engine
    _feed_mispriced(e)
    assert len(records) == 1
    market = bot.ctx.market
    market.add_market(MarketInfo("binance", "SOL/USDT", "SOL", "USDT"))
    market.add_market(MarketInfo("binance", "SOL/BTC", "SOL", "BTC"))
    e.process(ev(1.5, "SOL/USDT", 10.0, 10.01, 100.0))
    state = bot.detectors[0]._state("binance")
    assert {frozenset(c.assets) for c in state.cycles} == {
        frozenset({"USDT", "BTC", "ETH"}),
        frozenset({"USDT", "BTC", "SOL"}),
    }
    # SOL/BTC quoted at 0.098 BTC: 1 USDT -> 0.01 BTC -> 0.102 SOL -> 1.0204 USDT
    e.process(ev(1.6, "SOL/BTC", 0.0979, 0.098, 100.0))
    assert any(r.opportunity.metadata["path"] == "USDT>BTC>SOL>USDT" for r in records[1:])
