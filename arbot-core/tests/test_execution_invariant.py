"""The execution invariant over random fault schedules (hypothesis).

After every episode, whatever the venues did (rejects, partial fills, lost acks, 5xx before the
venue, clock skew, 429, duplicate ids, transient "not found" on queries and cancels, failed fill
queries): each venue's balances changed exactly by the fills the journal holds (intended trades
and fees, nothing the bot does not know about), the net exposure across venues is zero or
reported as a residual (venue, asset, amount), and no order is left UNKNOWN.
"""

from __future__ import annotations

import math

from arbot.events import Leg, Opportunity, Side
from arbot.execution.events import ResidualExposure
from arbot.execution.journal import replay_positions
from arbot.execution.legs import LegPolicy
from arbot.testing.execution import SYMBOL, World, approx_dict
from arbot.trading.types import OrderStatus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PLACE = st.sampled_from(["ok", "reject", "5xx", "lost_ack", "clock_skew", "rate_limit", "duplicate"])
GET = st.sampled_from(["ok", "5xx", "not_found"])
CANCEL = st.sampled_from(["ok", "5xx", "not_found"])
FILLS = st.sampled_from(["ok", "5xx"])


def schedule() -> st.SearchStrategy[dict[str, list[str]]]:
    return st.fixed_dictionaries(
        {
            "place": st.lists(PLACE, max_size=4),
            "get": st.lists(GET, max_size=3),
            "cancel": st.lists(CANCEL, max_size=2),
            "fills": st.lists(FILLS, max_size=2),
        }
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sched_a=schedule(),
    sched_b=schedule(),
    depth_a=st.sampled_from([0.0, 0.3, 1.0, 3.0]),
    depth_b=st.sampled_from([0.0, 0.3, 1.0, 3.0]),
    bid_a=st.sampled_from([59_990.0, 59_800.0, 59_000.0]),
    bid_b=st.sampled_from([60_400.0, 60_300.0, 59_995.0]),
    steps=st.sampled_from([("retry", "unwind"), ("unwind",), ("hold",), ("retry", "hold")]),
    qty=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_balances_move_only_by_journaled_fills_and_exposure_is_flat_or_reported(
    sched_a, sched_b, depth_a, depth_b, bid_a, bid_b, steps, qty
):
    w = World(
        schedules={"a": sched_a, "b": sched_b}, policy=LegPolicy(on_divergence=steps, unknown_wait_s=3.0)
    )
    w.market.book("a", SYMBOL).apply_snapshot([(bid_a, 3.0)], [(60_000.0, depth_a)], 1000.0)
    w.market.book("b", SYMBOL).apply_snapshot([(bid_b, depth_b)], [(60_410.0, 3.0)], 1000.0)
    res = w.run(w.machine.run("opp-1", w.opportunity(qty)))

    assert all(o.status is not OrderStatus.UNKNOWN for o in res.orders), [
        (o.purpose, o.status, o.reason) for o in res.orders
    ]
    assert all(o.status.is_terminal for o in res.orders)
    # every venue trade is one the journal knows, fees included
    truth = w.ledger_delta()
    assert approx_dict(replay_positions(w.journal.fills()), truth), (truth, w.journal.fills())
    # each client id reached a venue at most once
    for sim in w.sims.values():
        ids = [f.client_id for f in sim.all_fills()]
        assert len({*ids}) == len({(f.client_id) for f in sim.all_fills()})
    # exposure: flat across venues, or exactly what was reported
    net_btc = sum(q for (v, a), q in truth.items() if a == "BTC")
    reported = sum(e.amount for e in w.events if isinstance(e, ResidualExposure) and e.asset == "BTC")
    assert math.isclose(net_btc, reported, abs_tol=1e-9), (res.state, res.reason, net_btc, reported)
    if abs(net_btc) > 1e-9:
        assert res.state in ("HELD", "HALTED")
    assert res.state in ("DONE", "MISSED", "UNWOUND", "HELD", "HALTED")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    place=st.lists(PLACE, max_size=5),
    get=st.lists(GET, max_size=3),
    depths=st.tuples(*[st.sampled_from([0.0, 0.2, 1.0, 5.0])] * 3),
    steps=st.sampled_from([("retry", "unwind"), ("unwind",), ("hold",)]),
)
def test_triangular_chain_balances_move_only_by_journaled_fills(place, get, depths, steps):
    w = World(
        venues=("x",), schedules={"x": {"place": place, "get": get}}, policy=LegPolicy(on_divergence=steps)
    )
    m = w.market
    m.book("x", "BTC/USDT").apply_snapshot([(59_990.0, 5.0)], [(60_000.0, depths[0])], 1000.0)
    m.book("x", "ETH/BTC").apply_snapshot([(0.0499, 100.0)], [(0.05, depths[1] * 20)], 1000.0)
    m.book("x", "ETH/USDT").apply_snapshot([(3_100.0, depths[2] * 20)], [(3_101.0, 100.0)], 1000.0)
    w.sims["x"].ledger["ETH"] = 0.0
    legs = (
        Leg("x", "BTC/USDT", Side.BUY, 60_000.0, 1.0),
        Leg("x", "ETH/BTC", Side.BUY, 0.05, 20.0),
        Leg("x", "ETH/USDT", Side.SELL, 3_100.0, 20.0),
    )
    opp = Opportunity("tri", 1000.0, "triangular", "BTC/USDT", legs, 3.0, 2.7, 1000.0)
    res = w.run(w.machine.run("tri", opp))
    assert all(o.status.is_terminal for o in res.orders), [
        (o.purpose, o.status, o.reason) for o in res.orders
    ]
    truth = w.ledger_delta()
    assert approx_dict(replay_positions(w.journal.fills()), truth)
    for asset in ("BTC", "ETH"):
        reported = sum(e.amount for e in w.events if isinstance(e, ResidualExposure) and e.asset == asset)
        assert math.isclose(truth.get(("x", asset), 0.0), reported, abs_tol=1e-9), (res.state, asset, truth)
