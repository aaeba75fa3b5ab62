"""The simulated venue's fills (value conservation, book, balance) and risk rules (reasons, monotonicity)."""

from __future__ import annotations

import math

import pytest
from arbot.bot import Bot
from arbot.events import Fill, Leg, Opportunity, RiskAction, Side
from arbot.execution.runtime import VirtualRuntime
from arbot.execution.simulated import SimulatedGateway
from arbot.market import MarketState
from arbot.trading import OrderRejected, OrderRequest, OrderType, TimeInForce
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

level = st.tuples(st.integers(90, 110).map(float), st.floats(0.01, 5.0))


def _arrive(market, side, qty, limit, fee, ledger, reject=0.0):
    """One IOC order through the simulated venue; (state or None when refused, the venue)."""
    rt = VirtualRuntime(0.0)
    gw = SimulatedGateway(
        "v", market, rt, latency_s=0.0, taker_fee=lambda s: fee, ledger=ledger, reject_probability=reject
    )
    req = OrderRequest("v", "X/USDT", side, OrderType.LIMIT, qty, gw.new_client_id(), limit, TimeInForce.IOC)
    box = []

    async def go():
        try:
            box.append(await gw.place_order(req))
        except OrderRejected:
            box.append(None)

    rt.spawn(go())
    rt.drain()
    return box[0], gw


@settings(max_examples=300, deadline=None)
@given(
    asks=st.lists(level, min_size=0, max_size=15),
    bids=st.lists(level, min_size=0, max_size=15),
    side=st.sampled_from([Side.BUY, Side.SELL]),
    qty=st.floats(0.0, 20.0),
    price=st.floats(85.0, 115.0),
    fee=st.floats(0.0, 0.01),
    tol=st.floats(0.0, 0.02),
    balance=st.floats(0.0, 2000.0),
)
def test_fills_conserve_value_and_respect_book_and_balance(asks, bids, side, qty, price, fee, tol, balance):
    market = MarketState()
    book = market.book("v", "X/USDT")
    book.apply_snapshot(bids, asks, 0.0)
    before_side = list(book.asks if side is Side.BUY else book.bids)
    limit = price * (1 + tol) if side is Side.BUY else price * (1 - tol)
    ledger = {"USDT": balance, "X": balance / 100.0}
    start = dict(ledger)
    state, gw = _arrive(market, side, qty, limit, fee, ledger)
    after = sum(q for _, q in (book.asks if side is Side.BUY else book.bids))
    available = sum(q for _, q in before_side)
    if state is None:  # refused: more than the balance allows, and nothing moved
        need = qty * limit * (1 + fee) if side is Side.BUY else qty
        assert need > (balance if side is Side.BUY else balance / 100.0) * (1 - 1e-9)
        assert ledger == start and math.isclose(after, available)
        return
    fills = gw.all_fills()
    filled = sum(f.quantity for f in fills)
    assert math.isclose(filled, state.filled, rel_tol=1e-12, abs_tol=1e-12)
    assert 0.0 <= filled <= qty * (1 + 1e-12) and filled <= available * (1 + 1e-12)
    cost = sum(f.quantity * f.price for f in fills)
    fee_paid = sum(f.fee for f in fills)
    if filled > 0:
        avg = cost / filled
        assert (avg <= limit * (1 + 1e-12)) if side is Side.BUY else (avg >= limit * (1 - 1e-12))
        # the book lost exactly what was filled
        assert math.isclose(available - after, filled, rel_tol=1e-9, abs_tol=1e-9)
        assert state.status.value in ("FILLED", "CANCELLED")
    else:
        assert state.status.value == "EXPIRED"
    # value conservation: marked at the fill price, the only loss is the fee
    mark = cost / filled if filled > 0 else price
    value_before = start["USDT"] + start["X"] * mark
    value_after = ledger["USDT"] + ledger["X"] * mark
    assert math.isclose(value_after, value_before - fee_paid, rel_tol=1e-9, abs_tol=1e-7)
    # no money created, no negative balance
    assert ledger["USDT"] >= -1e-7 and ledger["X"] >= -1e-9
    assert fee_paid == pytest.approx(cost * fee, abs=1e-12)


def test_rejected_order_moves_nothing():
    market = MarketState()
    book = market.book("v", "X/USDT")
    book.apply_snapshot([(99.0, 1.0)], [(100.0, 1.0)], 0.0)
    ledger = {"USDT": 1000.0}
    state, gw = _arrive(market, Side.BUY, 1.0, 100.0, 0.001, ledger, reject=1.0)
    assert state is None and gw.all_fills() == [] and ledger == {"USDT": 1000.0}
    assert list(book.asks) == [(100.0, 1.0)]


def _bot(make_config, **risk):
    cfg = make_config(
        {
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["a", "b"]},
            "source": {"name": "simulator", "simulator": {"venues": ["a", "b"]}},
            "symbols": ["BTC/USDT"],
            "detector": {},
            "risk": risk,
            "portfolio": {"initial": {"USDT": 100_000, "BTC": 2.0}},
            "sinks": {"enabled": []},
        }
    )
    bot = Bot(cfg, mode="backtest")
    for v in ("a", "b"):
        bot.ctx.market.book(v, "BTC/USDT").apply_snapshot([(59_990.0, 5.0)], [(60_000.0, 5.0)], 100.0)
        bot.ctx.market.set_health(v, "BTC/USDT", "live")
    return bot


def _opp(qty=1.0, gross=0.5, buy_px=60_000.0, sell_px=60_300.0):
    return Opportunity(
        "id",
        100.0,
        "spatial",
        "BTC/USDT",
        (Leg("a", "BTC/USDT", Side.BUY, buy_px, qty), Leg("b", "BTC/USDT", Side.SELL, sell_px, qty)),
        gross,
        gross - 0.2,
        100.0,
    )


def _rule(bot, name):
    return next(r for r in bot.risk_rules if r.name == name)


def test_each_rule_gives_a_reason(make_config):
    bot = _bot(make_config)
    assert (
        _rule(bot, "stale_book").evaluate(_opp(), 103.0).reason.startswith("a BTC/USDT book is 3000 ms old")
    )
    assert "max_spread_pct" in _rule(bot, "spread_anomaly").evaluate(_opp(gross=6.0), 100.0).reason
    d = _rule(bot, "price_deviation").evaluate(_opp(sell_px=70_000.0), 100.0)
    assert d.action is RiskAction.REJECT and "from the median" in d.reason
    d = _rule(bot, "exposure").evaluate(_opp(qty=1.0), 100.0)
    assert d.action is RiskAction.RESIZE and d.scale == pytest.approx(10_000 / 60_300)
    d = _rule(bot, "balance").evaluate(_opp(qty=3.0), 100.0)
    assert d.action is RiskAction.RESIZE and "insufficient USDT on a" in d.reason
    assert d.scale == pytest.approx(100_000 / (3 * 60_000 * 1.001))
    d = _rule(bot, "balance").evaluate(_opp(qty=1.5), 100.0)
    assert d.action is RiskAction.APPROVE


def test_circuit_breaker_and_daily_loss(make_config):
    from arbot.events import ExecutionReport, FillStatus

    bot = _bot(make_config, consecutive_loss_limit=3, cooldown_minutes=1, max_daily_loss_usd=100)
    fill = Fill(
        "id", "a", "BTC/USDT", Side.BUY, "IOC", 1, 1, 1, 1, 0, "USDT", FillStatus.FILLED, 100.0, 0, "BACKTEST"
    )
    losing = ExecutionReport(_opp(), (fill,), 100.0, -40.0, 1.0)
    cb = _rule(bot, "circuit_breaker")
    dl = _rule(bot, "daily_loss")
    for _ in range(3):
        cb.on_report(losing)
        dl.on_report(losing)
    assert cb.evaluate(_opp(), 110.0).action is RiskAction.REJECT
    assert cb.evaluate(_opp(), 161.0).action is RiskAction.APPROVE  # cooldown over
    d = dl.evaluate(_opp(), 120.0)
    assert d.action is RiskAction.REJECT and "max_daily_loss_usd 100" in d.reason
    assert dl.evaluate(_opp(), 100.0 + 86_400.0).action is RiskAction.APPROVE  # next day


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(loose=st.floats(1_000, 100_000), factor=st.floats(0.05, 1.0), qty=st.floats(0.01, 3.0))
def test_exposure_is_monotone_in_its_limits(make_config, loose, factor, qty):
    strict = loose * factor

    def approved(limit: float) -> float:
        bot = _bot(
            make_config,
            max_position_per_coin_usd=limit,
            max_position_per_exchange_usd=limit,
            max_total_exposure_usd=limit,
        )
        d = _rule(bot, "exposure").evaluate(_opp(qty=qty), 100.0)
        return 0.0 if d.action is RiskAction.REJECT else qty * d.scale

    assert approved(strict) <= approved(loose) + 1e-12


def _reverse_opp(qty):
    """Sell on a (where the earlier trades bought), buy on b: inventory goes back to the start."""
    return Opportunity(
        "back",
        100.0,
        "spatial",
        "BTC/USDT",
        (Leg("b", "BTC/USDT", Side.BUY, 60_000.0, qty), Leg("a", "BTC/USDT", Side.SELL, 60_300.0, qty)),
        0.5,
        0.3,
        100.0,
    )


def test_exposure_frees_room_when_inventory_comes_back(make_config):
    """A venue past max_position_per_exchange_usd accepts what brings its inventory back, and
    nothing that moves it further (the reference backtest stopped trading for good after its
    first dislocation because a leg's notional was added to the displacement whatever its side)."""
    bot = _bot(make_config, max_position_per_coin_usd=1e6, max_position_per_exchange_usd=50_000)
    pf = bot.ctx.portfolio
    # earlier trades bought 1 BTC on a and sold 1 BTC on b: each venue displaced by ~60,000 USD
    pf.balances[("a", "BTC")] += 1.0
    pf.balances[("b", "BTC")] -= 1.0
    rule = _rule(bot, "exposure")
    same_way = rule.evaluate(_opp(qty=0.5), 100.0)
    assert same_way.action is RiskAction.REJECT and "max_position_per_exchange_usd" in same_way.reason
    assert rule.evaluate(_reverse_opp(0.5), 100.0).action is RiskAction.APPROVE
    # going back past the start is cut where the venue would end further from its start than it
    # is now (a's 1 BTC, ~59,995 USD, sold at 60,300 per BTC: at most 2 x 59,995 / 60,300 BTC)
    over = rule.evaluate(_reverse_opp(3.0), 100.0)
    assert over.action is RiskAction.RESIZE
    mid = 59_995.0
    assert 3.0 * over.scale == pytest.approx(2 * mid / 60_300.0, rel=1e-6)


def test_exposure_counts_the_net_unhedged_position(make_config):
    """The total cap sees the change netted across venues: a hedged pair adds nothing, and an
    opportunity that closes an open position is allowed even when the position is past the cap."""
    bot = _bot(
        make_config,
        max_position_per_coin_usd=1e6,
        max_position_per_exchange_usd=1e6,
        max_total_exposure_usd=10_000,
    )
    pf = bot.ctx.portfolio
    rule = _rule(bot, "exposure")
    assert rule.evaluate(_opp(qty=1.0), 100.0).action is RiskAction.APPROVE  # hedged: buy a, sell b
    pf.balances[("a", "BTC")] += 0.5  # an unwound leg left 0.5 BTC (~30,000 USD) unhedged
    one_sided = Opportunity(
        "sell",
        100.0,
        "spatial",
        "BTC/USDT",
        (Leg("a", "BTC/USDT", Side.SELL, 59_990.0, 0.5),),
        0.5,
        0.3,
        100.0,
    )
    assert rule.evaluate(one_sided, 100.0).action is RiskAction.APPROVE
    buy_more = attrs_evolve_side(one_sided, Side.BUY)
    d = rule.evaluate(buy_more, 100.0)
    assert d.action is RiskAction.REJECT and "max_total_exposure_usd" in d.reason


def attrs_evolve_side(opp, side):
    """``opp`` with its single leg on ``side``."""
    leg = opp.legs[0]
    return Opportunity(
        opp.id,
        opp.ts,
        opp.strategy,
        opp.symbol,
        (Leg(leg.venue, leg.symbol, side, leg.price, leg.qty),),
        opp.gross_spread_pct,
        opp.net_spread_pct,
        opp.estimated_profit,
    )
