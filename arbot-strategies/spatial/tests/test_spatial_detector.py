"""Spatial detection: hand-computed cases, filters, and a hypothesis check against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from arbot.book import OrderBook
from arbot.events import Side
from arbot_spatial import detect_spatial_opportunity, walk_pair
from hypothesis import given, settings
from hypothesis import strategies as st


def book(venue, bids, asks, ts=100.0):
    b = OrderBook(venue, "BTC/USDT")
    b.apply_snapshot(bids, asks, ts)
    return b


def test_hand_computed_two_levels():
    # buy on A: 1 @ 100, 1 @ 100.2; sell on B: 1.5 @ 101, 2 @ 100.3
    a = book("A", [(99.0, 5.0)], [(100.0, 1.0), (100.2, 1.0)])
    b = book("B", [(101.0, 1.5), (100.3, 2.0)], [(102.0, 5.0)])
    fees = {"A": 0.001, "B": 0.001}
    # marginal test at 0.25 %: 101*0.999 / (100*1.001) - 1 = 0.7992 % ok; 101 vs 100.2: 0.5963 % ok;
    # 100.3 vs 100.2: -0.1% -> stop. Size = 1 + 0.5 = 1.5
    fill = walk_pair(a, b, 0.001, 0.001, 0.0025)
    assert fill.qty == pytest.approx(1.5)
    assert fill.buy_cost == pytest.approx(100.0 + 0.5 * 100.2)
    assert fill.sell_proceeds == pytest.approx(1.5 * 101.0)
    assert (fill.buy_worst, fill.sell_worst) == (100.2, 101.0)
    [opp] = detect_spatial_opportunity({"A": a, "B": b}, fees, min_spread_pct=0.25, min_depth_usd=100)
    assert [(leg.venue, leg.side, leg.price, leg.qty) for leg in opp.legs] == [
        ("A", Side.BUY, 100.2, pytest.approx(1.5)),
        ("B", Side.SELL, 101.0, pytest.approx(1.5)),
    ]
    cost = (100.0 + 50.1) * 1.001
    proceeds = 151.5 * 0.999
    assert opp.estimated_profit == pytest.approx(proceeds - cost)
    assert opp.net_spread_pct == pytest.approx((proceeds / cost - 1) * 100)
    assert opp.gross_spread_pct == pytest.approx((101.0 / (150.1 / 1.5) - 1) * 100)
    assert opp.depth_usd == pytest.approx(150.1)


def test_fees_kill_a_thin_spread():
    a = book("A", [(99.0, 5.0)], [(100.0, 1.0)])
    b = book("B", [(100.3, 1.0)], [(101.0, 5.0)])
    assert detect_spatial_opportunity({"A": a, "B": b}, {"A": 0.001, "B": 0.001}, 0.25, 10) == []
    # without fees 0.3 % clears 0.25 %
    assert len(detect_spatial_opportunity({"A": a, "B": b}, {"A": 0.0, "B": 0.0}, 0.25, 10)) == 1


def test_min_depth_and_max_latency_filters():
    a = book("A", [(99.0, 5.0)], [(100.0, 1.0)], ts=100.0)
    b = book("B", [(101.0, 1.0)], [(102.0, 5.0)], ts=100.0)
    fees = {"A": 0.001, "B": 0.001}
    assert detect_spatial_opportunity({"A": a, "B": b}, fees, 0.25, min_depth_usd=101.0) == []
    assert len(detect_spatial_opportunity({"A": a, "B": b}, fees, 0.25, min_depth_usd=99.0)) == 1
    stale = book("B", [(101.0, 1.0)], [(102.0, 5.0)], ts=99.0)
    found = detect_spatial_opportunity({"A": a, "B": stale}, fees, 0.25, 10, now=100.0, max_latency_ms=500)
    assert found == []


def test_crossed_book_is_ignored():
    a = book("A", [(99.0, 5.0)], [(100.0, 1.0)])
    bad = book("B", [(103.0, 1.0)], [(102.0, 5.0)])  # crossed: bid above ask
    assert detect_spatial_opportunity({"A": a, "B": bad}, {"A": 0.0, "B": 0.0}, 0.1, 1) == []


side = st.lists(
    st.tuples(st.integers(9_900, 10_100).map(lambda i: i / 100), st.floats(0.01, 3.0)), min_size=1, max_size=8
)


@settings(max_examples=300, deadline=None)
@given(asks=side, bids=side, fa=st.floats(0, 0.003), fb=st.floats(0, 0.003), min_net=st.floats(0, 0.01))
def test_walk_pair_size_is_the_largest_profitable_at_the_margin(asks, bids, fa, fb, min_net):
    a = book("A", [(1.0, 1.0)], asks)
    b = book("B", bids, [(1_000.0, 1.0)])
    fill = walk_pair(a, b, fa, fb, min_net)

    # independent reference: the marginal price is a step function of the cumulative quantity;
    # scan the segments between the breakpoints of both books from 0 upwards
    def price_at(levels, q):
        cum = 0.0
        for p, lq in levels:
            cum += lq
            if q < cum:
                return p
        return None

    ask_levels = list(a.asks)
    bid_levels = list(b.bids)
    cuts = sorted({0.0, *np.cumsum([q for _, q in ask_levels]), *np.cumsum([q for _, q in bid_levels])})
    expected = 0.0
    for lo, hi in itertools.pairwise(cuts):
        mid = (lo + hi) / 2
        pa, pb = price_at(ask_levels, mid), price_at(bid_levels, mid)
        if pa is None or pb is None or pb * (1 - fb) < pa * (1 + fa) * (1 + min_net):
            break
        expected = hi
    assert math.isclose(fill.qty, expected, rel_tol=1e-9, abs_tol=1e-12)
    if fill.qty > 0:
        # every unit bought costs no more than it sells for, net of fees and the threshold
        assert fill.sell_worst * (1 - fb) >= fill.buy_worst * (1 + fa) * (1 + min_net)
        proceeds = fill.sell_proceeds * (1 - fb)
        cost = fill.buy_cost * (1 + fa)
        assert proceeds >= cost * (1 + min_net) * (1 - 1e-12)
