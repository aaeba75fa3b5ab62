"""Transfer-cost-aware edge: with ``rebalance_cost_aware`` the detector charges the cost of moving
the inventory back, so an edge that only pays before the transfer fees is not taken."""

from __future__ import annotations

import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import BookUpdate
from arbot_spatial.transfer_costs import TransferCostTable, transfer_costs


def _bot(tmp_path, **spatial):
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "system": {"execution_mode": "backtest"},
            "exchanges": {
                "enabled": ["binance", "okx"],
                "fees": {"binance": {"taker_pct": 0.1}, "okx": {"taker_pct": 0.1}},
            },
            "symbols": ["BTC/USDT"],
            "detector": {
                "spatial": {"enabled": True, "min_spread_pct": 0.1, "min_depth_usd": 100, **spatial}
            },
            "executor": {"name": "none"},
            "risk": {"max_position_per_coin_usd": 1e6, "max_position_per_exchange_usd": 1e6},
            "sinks": {"enabled": []},
        }
    )
    bot = Bot(cfg, mode="backtest")
    out: list = []
    bot.engine._record = out.append  # type: ignore[method-assign]
    return bot, out


def _edge(bot, ts=10.0):
    """Binance asks 60,000; OKX bids 0.4 % higher: 0.2 % net of both taker fees."""
    bot.engine.process(BookUpdate(ts, "binance", "BTC/USDT", [(59_990.0, 0.5)], [(60_000.0, 0.5)], True, ts))
    bid = 60_000.0 * 1.004
    bot.engine.process(
        BookUpdate(ts + 0.1, "okx", "BTC/USDT", [(bid, 0.5)], [(bid + 10.0, 0.5)], True, ts + 0.1)
    )


def test_without_cost_awareness_the_edge_is_taken(tmp_path):
    bot, out = _bot(tmp_path, rebalance_cost_pct={"BTC": 0.1, "USDT": 0.05})
    _edge(bot)
    [rec] = out
    assert "rebalance_cost_pct" not in rec.opportunity.metadata


def test_an_edge_that_only_pays_before_the_transfer_fees_is_not_taken(tmp_path):
    # 0.2 % net of trading fees, minus 0.15 % to move BTC and USDT back = 0.05 % < 0.1 % required
    bot, out = _bot(tmp_path, rebalance_cost_aware=True, rebalance_cost_pct={"BTC": 0.1, "USDT": 0.05})
    _edge(bot)
    assert out == []


def test_a_cheap_transfer_leaves_the_edge_with_its_cost_charged(tmp_path):
    bot, out = _bot(tmp_path, rebalance_cost_aware=True, rebalance_cost_pct={"BTC": 0.02, "USDT": 0.02})
    _edge(bot)
    [rec] = out
    opp = rec.opportunity
    assert opp.metadata["rebalance_cost_pct"] == pytest.approx(0.04)
    cost = 0.5 * 60_000.0 * (1.001 + 0.0004)
    proceeds = 0.5 * 60_000.0 * 1.004 * 0.999
    assert opp.estimated_profit == pytest.approx(proceeds - cost)


def test_a_published_live_estimate_overrides_the_configured_one(tmp_path):
    bot, out = _bot(tmp_path, rebalance_cost_aware=True, rebalance_cost_pct={"BTC": 0.02})
    transfer_costs(bot.ctx).publish("BTC", 0.002)  # what a rebalancer found: 0.2 % per unit moved
    _edge(bot)
    assert out == []
    assert transfer_costs(bot.ctx).as_dict() == {"BTC": 0.002}


def test_the_table_refuses_a_bad_estimate():
    table = TransferCostTable({"BTC": 0.001})
    with pytest.raises(ValueError, match="BTC"):
        table.publish("BTC", float("nan"))
    with pytest.raises(ValueError, match="USDT"):
        table.set_defaults({"USDT": -0.1})
    assert table.cost("BTC") == 0.001 and table.cost("ETH") == 0.0
