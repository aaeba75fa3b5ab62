"""The rebalancer inside a bot: enabled by ``[rebalancer] enabled = true``, checking on the run's
clock, simulating transfers with fee and delay, and showing drift and cost in the summary."""

from __future__ import annotations

import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.errors import ConfigError
from arbot.events import BookUpdate
from arbot_rebalancer.sink import RebalancerSink
from arbot_rebalancer.transit import IN_TRANSIT
from arbot_spatial.transfer_costs import transfer_costs

NETWORKS = {
    "USDT": {"TRX": {"fee": 1.0, "minimum": 10.0, "minutes": 3.0}},
    "BTC": {"BTC": {"fee": 0.0002, "minimum": 0.001, "minutes": 30.0}},
}


def _config(tmp_path, **rebalancer):
    return {
        "output_dir": str(tmp_path),
        "system": {"execution_mode": "backtest"},
        "exchanges": {"enabled": ["binance", "okx"]},
        "symbols": ["BTC/USDT"],
        "executor": {"name": "none"},
        "portfolio": {
            "per_venue": {"binance": {"USDT": 90_000.0, "BTC": 1.0}, "okx": {"USDT": 10_000.0, "BTC": 1.0}},
            "snapshot_interval_s": 60.0,
        },
        "sinks": {"enabled": []},
        "rebalancer": {
            "enabled": True,
            "check_interval_minutes": 1,
            "imbalance_threshold_pct": 30,
            "networks": NETWORKS,
            **rebalancer,
        },
    }


def _books(t0: float, t1: float, step: float = 10.0):
    ts = t0
    while ts <= t1:
        for venue in ("binance", "okx"):
            yield BookUpdate(ts, venue, "BTC/USDT", [(59_990.0, 2.0)], [(60_010.0, 2.0)], True, ts)
        ts += step


def _bot(tmp_path, **rebalancer):
    bot = Bot(config_from_dict(_config(tmp_path, **rebalancer)), mode="backtest")
    [sink] = [s for s in bot.sinks if isinstance(s, RebalancerSink)]
    return bot, sink


def test_enabled_by_its_section_and_simulated_with_fee_and_delay(tmp_path):
    bot, sink = _bot(tmp_path)
    assert sink.simulate and [s.name for s in bot.sinks] == ["rebalancer"]
    bal = bot.ctx.portfolio.balances
    start_value = 100_000.0 + 2 * 60_000.0  # USDT, and 2 BTC at the 60,000 mid
    for ev in _books(0.0, 10.0):
        bot.engine.process(ev)
    # the first priced snapshot (t=10) checked: 40,000 USDT left Binance, 39,999 are on their way
    [t] = sink.last_plan.transfers
    for ev in _books(20.0, 180.0):  # arrives at 10 + 3 min = 190
        bot.engine.process(ev)
    assert (t.source, t.destination, t.asset, t.amount) == ("binance", "okx", "USDT", pytest.approx(40_000.0))
    assert bal[("binance", "USDT")] == pytest.approx(50_000.0)
    assert bal[(IN_TRANSIT, "USDT")] == pytest.approx(39_999.0)
    assert bal[("okx", "USDT")] == pytest.approx(10_000.0)  # 3 minutes to confirm: not yet
    for ev in _books(190.0, 240.0):
        bot.engine.process(ev)
    assert bal[("okx", "USDT")] == pytest.approx(49_999.0) and bal[(IN_TRANSIT, "USDT")] == 0.0
    assert bot.ctx.portfolio.value_usd() == pytest.approx(start_value - 1.0, abs=1e-6)  # only the fee
    stats = sink.stats()
    assert stats["transfers_sent"] == 1 and stats["transfers_arrived"] == 1 and stats["in_flight"] == 0
    assert stats["transfer_fees_usd"] == "1.00" and stats["max_imbalance_pct"] == "80.0"
    assert bot.ctx.counters["rebalancer_transfers"] == 1 and bot.ctx.counters["rebalancer_arrivals"] == 1
    # BTC is even: never moved; the cost estimates for detectors were published
    costs = transfer_costs(bot.ctx)
    assert costs.cost("USDT") == pytest.approx((1.0 + 10_000 * 0.0001 * 3 / 60) / 10_000)
    assert costs.cost("BTC") == pytest.approx((0.0002 * 60_000 + 10_000 * 0.0001 * 0.5) / 10_000)


def test_the_summary_shows_the_rebalancing(tmp_path):
    bot, _ = _bot(tmp_path, target_split={"BTC": {"binance": 3, "okx": 1}})
    summary = bot.run_backtest(events=list(_books(0.0, 3600.0, 30.0)))
    counters = summary["counters"]
    assert counters["rebalancer_transfers"] == 2  # USDT to OKX, BTC to Binance (3:1)
    assert counters["rebalancer_arrivals"] == 2
    assert counters["rebalancer_checks"] >= 59
    reb = summary["sinks"]["rebalancer"]
    assert float(reb["transfer_fees_usd"]) == pytest.approx(1.0 + 0.0002 * 60_000.0)
    bal = bot.ctx.portfolio.balances
    assert bal[("binance", "BTC")] == pytest.approx(1.5 - 0.0002) and bal[("okx", "BTC")] == pytest.approx(
        0.5
    )
    assert summary["exit_code"] == 0
    assert summary["mark_to_market_end_usd"] == pytest.approx(
        summary["mark_to_market_start_usd"] - float(reb["transfer_fees_usd"]), rel=1e-9
    )


def test_the_simulated_executor_ledgers_move_with_the_portfolio(tmp_path):
    cfg = _config(tmp_path)
    del cfg["executor"]  # the backtest executor, whose simulated venues keep their own ledgers
    bot = Bot(config_from_dict(cfg), mode="backtest")
    bot.run_backtest(events=list(_books(0.0, 600.0, 30.0)))
    bal = bot.ctx.portfolio.balances
    assert bal[("okx", "USDT")] == pytest.approx(49_999.0)
    for venue in ("binance", "okx"):
        ledger = bot.executor.gateway(venue).ledger
        assert ledger["USDT"] == pytest.approx(bal[(venue, "USDT")])


def test_without_a_route_nothing_moves_and_it_is_counted(tmp_path):
    bot, sink = _bot(tmp_path, networks={})
    for ev in _books(0.0, 30.0):
        bot.engine.process(ev)
    assert sink.stats()["transfers_sent"] == 0 and sink.stats()["unroutable"] == 1
    assert "no route: 40000 USDT to okx" in sink.last_plan.describe()


def test_bad_settings_are_reported_at_their_key(tmp_path):
    with pytest.raises(ConfigError, match="rebalancer"):
        _bot(tmp_path, imbalance_threshold_pct=-1)
    with pytest.raises(ConfigError, match="rebalancer"):
        _bot(tmp_path, typo_key=1)
    with pytest.raises(ConfigError, match="address_allowlist"):
        _bot(tmp_path, execute=True)
    with pytest.raises(ConfigError, match=r"nope\.csv"):
        _bot(tmp_path, fee_table=str(tmp_path / "nope.csv"))


def test_the_spatial_detector_charges_what_the_rebalancer_publishes(tmp_path):
    cfg = _config(tmp_path)
    cfg["exchanges"]["fees"] = {"binance": {"taker_pct": 0.1}, "okx": {"taker_pct": 0.1}}
    cfg["detector"] = {
        "spatial": {
            "enabled": True,
            "min_spread_pct": 0.1,
            "min_depth_usd": 100,
            "rebalance_cost_aware": True,
        }
    }
    cfg["risk"] = {"max_position_per_coin_usd": 1e6, "max_position_per_exchange_usd": 1e6}
    bot = Bot(config_from_dict(cfg), mode="backtest")
    seen: list = []
    bot.engine._record = seen.append  # type: ignore[method-assign]

    def edge(ts):
        # OKX bids 0.4 % over Binance's ask: 0.2 % net of both taker fees
        bot.engine.process(
            BookUpdate(ts, "binance", "BTC/USDT", [(59_990.0, 0.5)], [(60_000.0, 0.5)], True, ts)
        )
        bid = 60_000.0 * 1.004
        bot.engine.process(
            BookUpdate(ts + 0.1, "okx", "BTC/USDT", [(bid, 0.5)], [(bid + 10, 0.5)], True, ts + 0.1)
        )

    edge(0.0)  # before the first check nothing is published: the edge is taken
    assert len(seen) == 1 and seen[0].opportunity.metadata["rebalance_cost_pct"] == 0.0
    edge(2.0)  # the first priced snapshot checks and publishes: BTC ~0.125 %, USDT 0.0105 %
    costs = transfer_costs(bot.ctx)
    btc = bot.ctx.usd_price("BTC")  # the median mid of both books
    assert costs.cost("BTC") == pytest.approx((0.0002 * btc + 10_000 * 0.0001 * 0.5) / 10_000)
    assert costs.cost("USDT") == pytest.approx((1.0 + 10_000 * 0.0001 * 3 / 60) / 10_000)
    seen.clear()
    edge(4.0)  # 0.2 % - 0.1355 % < 0.1 %: not taken any more
    assert seen == []
