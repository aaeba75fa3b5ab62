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


def side_levels(mid, offsets, qtys, direction):
    """Levels ``mid * (1 + direction * cumulative offset)``, best first, as a book side."""
    out = []
    gap = 0.0
    for off, q in zip(offsets, qtys, strict=True):
        gap += off
        out.append((mid * (1.0 + direction * gap), q))
    return out


offsets = st.lists(st.floats(1e-4, 0.01), min_size=1, max_size=5)
qtys = st.lists(st.floats(0.1, 5.0), min_size=5, max_size=5)


@st.composite
def cycles(draw):
    """Three non-crossed books whose top-of-book cycle product is near 1 (-1 % .. +3 %)."""
    sides = draw(st.tuples(*[st.sampled_from([SELL_BASE, BUY_BASE])] * 3))
    mids = [draw(st.floats(0.2, 5.0)), draw(st.floats(0.2, 5.0))]
    edge = draw(st.floats(-0.01, 0.03))
    # rate of a leg at mid: SELL gets mid, BUY gets 1 / mid; solve the third mid for the edge
    r12 = 1.0
    for mid, side in zip(mids, sides[:2], strict=True):
        r12 *= mid if side == SELL_BASE else 1.0 / mid
    r3 = (1.0 + edge) / r12
    mids.append(r3 if sides[2] == SELL_BASE else 1.0 / r3)
    books = []
    for mid in mids:
        half = draw(st.floats(0.0, 5e-4))
        bid_off = draw(offsets)
        ask_off = draw(offsets)
        bids = side_levels(mid * (1 - half), [0.0, *bid_off[1:]], draw(qtys)[: len(bid_off)], -1)
        asks = side_levels(mid * (1 + half), [0.0, *ask_off[1:]], draw(qtys)[: len(ask_off)], 1)
        books.append(book("X/Y", bids, asks))
    return books, list(sides)


@settings(max_examples=300, deadline=None)
@given(case=cycles(), fee=st.floats(0.0, 0.003), min_profit=st.floats(0.0, 0.01))
def test_size_is_the_profit_maximising_size_of_a_slow_reference(case, fee, min_profit):
    books, sides = case
    fees = [fee] * 3
    fill = size_cycle(books, sides, fees, min_profit)
    x = fill.amount_in
    if x > 0:
        out = reference_out(books, sides, fees, x)
        assert out is not None
        assert math.isclose(out, fill.amount_out, rel_tol=1e-9)
        assert fill.amount_out >= (1 + min_profit) * x * (1 - 1e-12)  # the whole size clears it

    # no other start amount earns more above the threshold: many candidate sizes, on a grid
    # and just around the chosen size (the marginal unit past it must not clear the threshold)
    def objective(v):
        o = reference_out(books, sides, fees, v)
        return None if o is None else o - (1 + min_profit) * v

    best = objective(x) if x > 0 else 0.0
    assert best is not None
    limit = 2.0 * max(x, 1.0) + 10.0
    candidates = [limit * i / 300 for i in range(1, 301)]
    candidates += [x * (1 + d) for d in (-1e-3, -1e-6, 1e-6, 1e-3, 1e-2)]
    for v in candidates:
        o = objective(v)
        if o is not None:
            assert o <= best + 1e-9 * max(1.0, abs(best), v)
