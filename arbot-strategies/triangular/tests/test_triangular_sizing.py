"""Cycle sizing: hand-computed cases, and a hypothesis test against a slow reference."""

from __future__ import annotations

import math

import pytest
from arbot.book import OrderBook
from arbot_triangular.cycles import BUY_BASE, SELL_BASE
from arbot_triangular.sizing import size_cycle
from hypothesis import given, settings
from hypothesis import strategies as st


def book(symbol, bids, asks):
    b = OrderBook("v", symbol)
    b.apply_snapshot(bids, asks, 0.0)
    return b


def test_hand_computed_one_level_each():
    # USDT -> BTC (buy BTC/USDT at 100) -> ETH (buy ETH/BTC at 0.05) -> USDT (sell ETH/USDT at 5.1)
    btc = book("BTC/USDT", [(99.0, 10.0)], [(100.0, 1.0)])
    ethbtc = book("ETH/BTC", [(0.049, 100.0)], [(0.05, 100.0)])
    eth = book("ETH/USDT", [(5.1, 30.0)], [(5.2, 30.0)])
    fee = 0.001
    fill = size_cycle([btc, ethbtc, eth], [BUY_BASE, BUY_BASE, SELL_BASE], [fee] * 3, 0.0015)
    # gross product 5.1 / (100 * 0.05) = 1.02; net = 1.02 * 0.999 / 1.001**2
    net = 1.02 * 0.999 / 1.001**2
    # limits: BTC level 1 BTC = 100.1 USDT; ETH/BTC 100 ETH = 5.005 BTC in (not binding);
    # ETH/USDT 30 ETH: not binding either (1 BTC buys 19.98 ETH). The BTC/USDT level binds.
    assert fill.amount_in == pytest.approx(100 * 1.001)
    assert fill.base_qty[0] == pytest.approx(1.0)
    assert fill.base_qty[1] == pytest.approx(1.0 / (0.05 * 1.001))
    assert fill.base_qty[2] == pytest.approx(1.0 / (0.05 * 1.001))
    assert fill.amount_out == pytest.approx(fill.amount_in * net)
    assert fill.gross_out == pytest.approx(fill.amount_in * 1.02)
    assert fill.worst == [100.0, 0.05, 5.1]


def test_second_level_stops_when_the_margin_is_gone():
    btc = book("BTC/USDT", [(99.0, 10.0)], [(100.0, 1.0), (101.5, 5.0)])
    ethbtc = book("ETH/BTC", [(0.049, 100.0)], [(0.05, 1000.0)])
    eth = book("ETH/USDT", [(5.1, 300.0)], [(5.2, 30.0)])
    fill = size_cycle([btc, ethbtc, eth], [BUY_BASE, BUY_BASE, SELL_BASE], [0.001] * 3, 0.0015)
    # at 101.5 the gross product is 5.1 / 5.075 = 1.0049, net about 1.0019 > 1.0015: taken
    assert fill.base_qty[0] == pytest.approx(6.0)
    fill = size_cycle([btc, ethbtc, eth], [BUY_BASE, BUY_BASE, SELL_BASE], [0.001] * 3, 0.003)
    assert fill.base_qty[0] == pytest.approx(1.0)  # a 0.3 % threshold stops after level one


def test_unprofitable_cycle_sizes_to_zero():
    btc = book("BTC/USDT", [(99.0, 10.0)], [(100.0, 1.0)])
    ethbtc = book("ETH/BTC", [(0.049, 100.0)], [(0.05, 10.0)])
    eth = book("ETH/USDT", [(5.0, 30.0)], [(5.2, 30.0)])
    fill = size_cycle([btc, ethbtc, eth], [BUY_BASE, BUY_BASE, SELL_BASE], [0.001] * 3, 0.0)
    assert fill.amount_in == 0.0 and fill.profit == 0.0


# -- slow reference -------------------------------------------------------------------------


def reference_out(books, sides, fees, x):
    """Push x of the start asset through the legs one after the other, walking whole books."""
    amount = x
    for b, side, fee in zip(books, sides, fees, strict=True):
        if side == SELL_BASE:
            walk = b.bids.walk_qty(amount)
            if walk.qty < amount * (1 - 1e-12):
                return None
            amount = walk.cost * (1 - fee)
        else:
            walk = b.asks.walk_notional(amount / (1 + fee))
            if walk.cost < amount / (1 + fee) * (1 - 1e-12):
                return None
            amount = walk.qty
    return amount


levels = st.lists(st.tuples(st.floats(0.5, 2.0), st.floats(0.1, 5.0)), min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(
    b1=levels,
    b2=levels,
    b3=levels,
    sides=st.tuples(*[st.sampled_from([SELL_BASE, BUY_BASE])] * 3),
    fee=st.floats(0.0, 0.003),
    min_profit=st.floats(0.0, 0.01),
)
def test_size_is_the_profit_maximising_size_of_a_slow_reference(b1, b2, b3, sides, fee, min_profit):
    books = []
    for lv in (b1, b2, b3):
        bids = sorted({p: q for p, q in lv}.items(), reverse=True)
        asks = [(p * 1.0 + 0.0, q) for p, q in bids]  # a symmetric book is enough to exercise walks
        books.append(book("X/Y", bids, asks))
    fees = [fee] * 3
    fill = size_cycle(books, list(sides), fees, min_profit)
    x = fill.amount_in
    if x > 0:
        out = reference_out(books, sides, fees, x)
        assert out is not None
        assert math.isclose(out, fill.amount_out, rel_tol=1e-9)

    # no other start amount earns more above the threshold
    def objective(v):
        o = reference_out(books, sides, fees, v)
        return None if o is None else o - (1 + min_profit) * v

    best = objective(x) if x > 0 else 0.0
    assert best is not None
    limit = 2.0 * max(x, 1.0) + 10.0
    for i in range(1, 201):
        v = limit * i / 200
        o = objective(v)
        if o is not None:
            assert o <= best + 1e-9 * max(1.0, abs(best), v)
