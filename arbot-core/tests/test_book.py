"""Order book: unit cases and hypothesis invariants against a plain dict model."""

from __future__ import annotations

import itertools
import math

import numpy as np
from arbot.book import OrderBook
from hypothesis import given, settings
from hypothesis import strategies as st

prices = st.integers(min_value=1, max_value=400).map(lambda i: i * 0.25)
qtys = st.one_of(st.just(0.0), st.floats(min_value=0.001, max_value=50, allow_nan=False))
levels = st.lists(st.tuples(prices, qtys), max_size=30)


def model_apply(model: dict[float, float], lv: list[tuple[float, float]]) -> None:
    for p, q in lv:
        if q > 0:
            model[p] = q
        else:
            model.pop(p, None)


@settings(max_examples=300, deadline=None)
@given(snap_b=levels, snap_a=levels, deltas=st.lists(st.tuples(levels, levels), max_size=20))
def test_book_matches_reference_model(snap_b, snap_a, deltas):
    book = OrderBook("v", "X/Y")
    book.apply_snapshot(snap_b, snap_a, 1.0)
    mb: dict[float, float] = {}
    ma: dict[float, float] = {}
    model_apply(mb, snap_b)
    model_apply(ma, snap_a)
    for i, (db, da) in enumerate(deltas):
        book.apply_delta(db, da, 2.0 + i)
        model_apply(mb, db)
        model_apply(ma, da)
    bids = list(book.bids)
    asks = list(book.asks)
    assert bids == sorted(mb.items(), reverse=True)
    assert asks == sorted(ma.items())
    # strictly ordered, no zero levels
    assert all(b1[0] > b2[0] for b1, b2 in itertools.pairwise(bids))
    assert all(q > 0 for _, q in bids + asks)
    assert (book.best_bid == max(mb)) if mb else math.isnan(book.best_bid)
    assert (book.best_ask == min(ma)) if ma else math.isnan(book.best_ask)
    assert book.is_crossed == (bool(mb) and bool(ma) and max(mb) >= min(ma))


@settings(max_examples=200, deadline=None)
@given(asks=levels, qty=st.floats(min_value=0.0, max_value=200))
def test_walk_qty_vwap_matches_reference(asks, qty):
    book = OrderBook("v", "X/Y")
    book.apply_snapshot([], asks, 0.0)
    model: dict[float, float] = {}
    model_apply(model, asks)
    remaining, cost = qty, 0.0
    for p, q in sorted(model.items()):
        take = min(q, remaining)
        cost += take * p
        remaining -= take
    fill = book.asks.walk_qty(qty)
    assert math.isclose(fill.qty, qty - remaining, rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(fill.cost, cost, rel_tol=1e-12, abs_tol=1e-9)
    if fill.qty > 1e-9:
        assert min(model) * (1 - 1e-12) <= fill.vwap <= fill.worst_price * (1 + 1e-12)


def test_depth_walk_and_notional_by_hand():
    book = OrderBook("v", "BTC/USDT")
    book.apply_snapshot([(99.0, 1.0), (98.0, 2.0)], [(100.0, 1.0), (101.0, 2.0), (105.0, 5.0)], 10.0)
    f = book.asks.walk_qty(2.0)
    assert (f.qty, f.cost, f.worst_price, f.levels) == (2.0, 201.0, 101.0, 2)
    assert f.vwap == 100.5
    # a limit stops the walk
    f = book.asks.walk_qty(10.0, limit_price=101.0)
    assert (f.qty, f.cost) == (3.0, 302.0)
    # notional: 100 + 202 = 302 USDT buys 3; 50 more buys 50/105
    n = book.asks.walk_notional(352.0)
    assert math.isclose(n.qty, 3.0 + 50.0 / 105.0)
    assert math.isclose(n.cost, 352.0)
    assert book.bids.notional_within(98.0) == (3.0, 99.0 + 196.0)
    assert book.top() == (99.0, 1.0, 100.0, 1.0)
    assert book.mid == 99.5 and book.spread == 1.0


def test_crossed_book_age_and_clear():
    book = OrderBook("v", "BTC/USDT")
    assert book.age(5.0) == math.inf
    assert not book.is_crossed and book.is_empty
    book.apply_snapshot([(100.0, 1.0)], [(101.0, 1.0)], 10.0)
    assert book.age(10.25) == 0.25
    book.apply_delta([(101.5, 1.0)], [], 11.0)
    assert book.is_crossed
    book.clear()
    assert book.is_empty and len(book.bids) == 0


def test_consume_removes_liquidity_up_to_limit():
    book = OrderBook("v", "X/Y")
    book.apply_snapshot([], [(10.0, 1.0), (11.0, 1.0), (12.0, 1.0)], 0.0)
    assert book.asks.consume(1.5, limit_price=11.0) == 1.5
    assert list(book.asks) == [(11.0, 0.5), (12.0, 1.0)]
    assert book.asks.consume(5.0, limit_price=11.0) == 0.5
    assert list(book.asks) == [(12.0, 1.0)]


def test_numpy_levels_round_trip():
    book = OrderBook("v", "X/Y")
    bids = np.array([[99.0, 1.0], [98.0, 0.0], [97.0, 3.0]])
    book.apply_snapshot(bids, np.array([[101.0, 2.0]]), 0.0)
    assert book.bids.levels().tolist() == [[99.0, 1.0], [97.0, 3.0]]
    assert book.bids.levels(1).tolist() == [[99.0, 1.0]]
    book.apply_delta(np.array([[97.0, 0.0]]), np.zeros((0, 2)), 1.0)
    assert book.bids.levels().tolist() == [[99.0, 1.0]]


def test_best_prices_is_best_first_on_both_sides():
    book = OrderBook("v", "X/Y")
    book.apply_snapshot([(98.0, 1.0), (99.0, 1.0), (97.0, 1.0)], [(101.0, 1.0), (100.0, 1.0)], 0.0)
    assert book.bids.best_prices(2) == [99.0, 98.0]
    assert book.asks.best_prices(5) == [100.0, 101.0]
