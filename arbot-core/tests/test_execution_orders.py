"""The order manager against simulated venues with injected faults (issue 10 scenarios 1, 3, 4, 7, 10,
11, 13, 15)."""

from __future__ import annotations

import itertools

import attrs
import pytest
from arbot.events import Side
from arbot.execution.orders import OrderPolicy
from arbot.testing.execution import SYMBOL, World
from arbot.trading.types import OrderRequest, OrderStatus, OrderType, OrderUpdate, TimeInForce


def _req(
    w: World,
    venue: str = "a",
    side: Side = Side.BUY,
    qty: float = 1.0,
    price: float = 60_010.0,
    tif: TimeInForce = TimeInForce.IOC,
) -> OrderRequest:
    return OrderRequest(venue, SYMBOL, side, OrderType.LIMIT, qty, w.gws[venue].new_client_id(), price, tif)


def test_intent_is_journaled_before_the_request_leaves():
    w = World()
    seen_at_send = []
    sim = w.sims["a"]
    place = sim.place_order

    async def spy(request):
        seen_at_send.append([(o.client_id, o.status) for o in w.journal.orders()])
        return await place(request)

    sim.place_order = spy  # type: ignore[method-assign]
    req = _req(w)
    o = w.run(w.manager.submit(req, "ep1", "leg0"))
    assert seen_at_send == [[(req.client_id, OrderStatus.PENDING_NEW)]]
    assert o.status is OrderStatus.FILLED
    assert [t.state for t in w.journal.transitions(req.client_id)] == ["PENDING_NEW", "FILLED"]


def test_lost_ack_is_settled_by_client_id_lookup_with_exactly_one_venue_order():  # scenario 1
    w = World(schedules={"a": {"place": ["lost_ack"]}})
    o = w.run(w.manager.submit(_req(w), "ep1", "leg0"))
    assert o.status is OrderStatus.FILLED and o.filled == pytest.approx(1.0)
    assert w.sims["a"].orders_received == 1
    states = [t.state for t in w.journal.transitions(o.client_id)]
    assert states == ["PENDING_NEW", "UNKNOWN", "FILLED"]


def test_5xx_before_the_venue_is_rejected_only_after_bounded_lookups():  # scenario 2's live half
    w = World(schedules={"a": {"place": ["5xx"]}}, order_policy=OrderPolicy(lookup_attempts=3))
    o = w.run(w.manager.submit(_req(w), "ep1", "leg0"))
    assert o.status is OrderStatus.REJECTED and o.inferred
    assert w.sims["a"].orders_received == 0
    assert w.manager.queries == 3
    assert "not found by client id after 3 lookups" in o.reason


def test_same_fill_from_stream_and_rest_is_applied_once():  # scenario 3
    w = World()
    o = w.run(w.manager.submit(_req(w), "ep1", "leg0"))
    fills = list(w.sims["a"].all_fills())
    assert len(fills) == 1 and o.fill_qty == pytest.approx(1.0)

    async def stream():
        async for u in w.gws["a"].updates():
            w.manager.apply(u)
        state = await w.gws["a"].get_order(SYMBOL, o.client_id)
        w.manager.apply(OrderUpdate(state, tuple(fills), seq=state.ts + 1.0, source="rest"))

    w.run(stream())
    assert o.fill_qty == pytest.approx(1.0) and len(o.fills) == 1
    assert o.late_updates >= 1
    assert len(w.journal.fills()) == 1


def test_older_update_never_moves_an_order_back():
    w = World()
    req = _req(w, tif=TimeInForce.GTC, price=59_000.0)  # rests: below the ask
    o = w.run(w.manager.submit(req, "ep1", "leg0"))
    assert o.status is OrderStatus.NEW
    newer = w.run(w.gws["a"].get_order(SYMBOL, req.client_id))
    partial = attrs.evolve(newer, status=OrderStatus.PARTIALLY_FILLED, filled=0.4)
    w.manager.apply(OrderUpdate(partial, (), seq=2000.0, source="stream"))
    w.manager.apply(OrderUpdate(newer, (), seq=1999.0, source="stream"))  # older NEW arrives late
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.filled == pytest.approx(0.4)
    assert o.stale_updates == 1
    # from another source (its seq in other units) the older NEW is not stale, yet moves nothing
    w.manager.apply(OrderUpdate(newer, (), seq=1.0, source="query"))
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.filled == pytest.approx(0.4)


def test_a_rest_answer_after_a_stream_update_applies_whatever_units_their_seq_use():
    """A stream numbers its updates in ms, the REST answers of the order manager in s: a newer
    REST answer (by the venue's time) must still apply after a stream update."""
    w = World()
    req = _req(w, tif=TimeInForce.GTC, price=59_000.0)
    o = w.run(w.manager.submit(req, "ep1", "leg0"))
    st = w.run(w.gws["a"].get_order(SYMBOL, req.client_id))
    w.manager.apply(OrderUpdate(st, (), seq=st.ts * 1000.0, source="stream"))
    done = attrs.evolve(st, status=OrderStatus.CANCELLED)
    w.manager.apply(OrderUpdate(done, (), seq=done.ts, source="query"))
    assert o.status is OrderStatus.CANCELLED and o.stale_updates == 0


def test_partial_fill_then_cancel_is_cancelled_with_its_fill():  # scenario 4
    w = World(depth=0.4)
    req = _req(w, tif=TimeInForce.GTC)  # 1 BTC against 0.4 at the ask: 0.4 fills, 0.6 rests
    o = w.run(w.manager.submit(req, "ep1", "leg0"))
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.filled == pytest.approx(0.4)
    w.run(w.manager.cancel(o))
    assert o.status is OrderStatus.CANCELLED and o.filled == pytest.approx(0.4)
    assert o.fee == pytest.approx(0.4 * 60_000.0 * 0.001)


def test_cancel_not_found_queries_and_applies_fills():  # scenario 7
    w = World(schedules={"a": {"cancel": ["not_found"]}}, depth=0.4)
    req = _req(w, tif=TimeInForce.GTC)
    o = w.run(w.manager.submit(req, "ep1", "leg0"))
    # more liquidity arrives; the venue fills the rest, then our cancel answers "not found"
    w.market.book("a", SYMBOL).apply_snapshot([(59_990.0, 5.0)], [(60_000.0, 5.0)], 1001.0)
    w.run(w.manager.cancel(o))
    assert o.status is OrderStatus.FILLED and o.filled == pytest.approx(1.0)
    assert len(o.fills) == 2


def test_a_recent_not_found_does_not_mark_an_order_cancelled():  # scenario 13, recent half
    w = World(schedules={"a": {"get": ["not_found", "not_found"]}})
    req = _req(w, tif=TimeInForce.GTC, price=59_000.0)
    o = w.run(w.manager.submit(req, "ep1", "leg0"))
    w.run(w.manager.query(o))
    w.run(w.manager.query(o))
    assert o.status is OrderStatus.NEW and o.misses == 2
    w.run(w.manager.query(o))  # the venue answers again
    assert o.status is OrderStatus.NEW


def test_an_order_older_than_the_venue_keeps_it_is_resolved_from_fills():  # scenario 13, old half
    w = World(
        schedules={"a": {"get": ["not_found"]}}, order_policy=OrderPolicy(venue_retention_s=60.0), depth=0.4
    )
    req = _req(w, tif=TimeInForce.GTC)
    o = w.run(w.manager.submit(req, "ep1", "leg0"))
    o.state_filled = 0.0  # the restart knew nothing of the fill: only the venue's fills tell
    o.fills.clear()
    o.trade_ids.clear()
    o.fill_qty = o.fill_cost = o.fee = 0.0
    w.rt.run_until(w.rt.now() + 120.0)
    w.run(w.manager.query(o))
    assert o.status is OrderStatus.CANCELLED and o.filled == pytest.approx(0.4)
    assert "resolved from its fills" in o.reason


def test_clock_skew_is_resent_with_the_same_client_id():  # scenario 10
    w = World(schedules={"a": {"place": ["clock_skew", "clock_skew"]}})
    req = _req(w)
    o = w.run(w.manager.submit(req, "ep1", "leg0"))
    assert o.status is OrderStatus.FILLED and o.client_id == req.client_id
    assert w.sims["a"].orders_received == 1
    assert sum("clock skew" in t.reason for t in w.journal.transitions(req.client_id)) == 2


def test_clock_skew_every_time_ends_rejected_never_unknown():
    w = World(schedules={"a": {"place": ["clock_skew"] * 3}})
    o = w.run(w.manager.submit(_req(w), "ep1", "leg0"))
    assert o.status is OrderStatus.REJECTED and w.sims["a"].orders_received == 0


def test_duplicate_client_id_is_looked_up_never_placed_again():  # scenario 11
    w = World(schedules={"a": {"place": ["duplicate"]}})
    o = w.run(w.manager.submit(_req(w), "ep1", "leg0"))
    assert o.status is OrderStatus.FILLED and w.sims["a"].orders_received == 1


def test_client_ids_are_unique_across_restarts():  # scenario 11
    ids = set()
    for run in ("run-1", "run-2"):
        w = World(run_id=run)
        ids |= {w.gws["a"].new_client_id() for _ in range(50)}
    assert len(ids) == 100


def test_reconciling_hundreds_of_orders_stays_inside_the_rate_limit():  # scenario 15
    w = World(order_policy=OrderPolicy(query_interval_s=0.1))
    orders = []
    for _ in range(200):
        req = _req(w, tif=TimeInForce.GTC, price=59_000.0, qty=0.001)
        orders.append(w.run(w.manager.submit(req, "ep", "leg0")))
    calls: list[float] = []
    get = w.sims["a"].get_order

    async def counted(symbol, cid):
        calls.append(w.rt.now())
        return await get(symbol, cid)

    w.sims["a"].get_order = counted  # type: ignore[method-assign]
    t0 = w.rt.now()

    async def all_at_once():
        await w.rt.gather(*(w.manager.query(o) for o in orders))

    w.run(all_at_once())
    assert len(calls) == 200
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert min(gaps) >= 0.1 - 1e-9
    assert w.rt.now() - t0 >= 19.9


def test_a_fill_seen_on_the_stream_and_in_rest_fills_of_an_open_order_counts_once():  # scenario 3, open order
    w = World(depth=0.4)
    o = w.run(w.manager.submit(_req(w, tif=TimeInForce.GTC), "ep1", "leg0"))
    assert o.status is OrderStatus.PARTIALLY_FILLED

    async def both():
        async for u in w.gws["a"].updates():
            w.manager.apply(u)
        await w.manager.collect_fills(o)

    w.run(both())
    assert o.fill_qty == pytest.approx(0.4) and len(o.fills) == 1 and o.status is OrderStatus.PARTIALLY_FILLED
