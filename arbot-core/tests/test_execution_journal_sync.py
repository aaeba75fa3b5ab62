"""The journal's two durability levels: every write committed (process crash), the intent flushed
to stable storage before its request leaves (power cut), one flush shared by concurrent writers;
and an order waiting for its outcome wakes on the private stream's update, not on a timer."""

from __future__ import annotations

import asyncio
import time

import attrs
import pytest
from arbot.events import Side
from arbot.execution.journal import OrderRecord, SqliteJournal
from arbot.execution.runtime import AsyncioRuntime
from arbot.testing.execution import SYMBOL, World
from arbot.trading.types import OrderRequest, OrderStatus, OrderType, OrderUpdate, TimeInForce


def _record(cid: str) -> OrderRecord:
    return OrderRecord(
        cid, "ep", "leg0", "a", SYMBOL, Side.BUY, OrderType.LIMIT, TimeInForce.IOC, 1.0, 60_000.0,
        OrderStatus.PENDING_NEW, 1000.0,
    )


def _req(w: World, price: float = 60_010.0, tif: TimeInForce = TimeInForce.IOC) -> OrderRequest:
    return OrderRequest("a", SYMBOL, Side.BUY, OrderType.LIMIT, 1.0, w.gws["a"].new_client_id(), price, tif)


def test_the_intent_is_on_stable_storage_before_the_request_leaves(tmp_path):
    journal = SqliteJournal(tmp_path / "execution.sqlite")
    w = World(journal=journal)
    seen = []
    sim = w.sims["a"]
    place = sim.place_order

    async def spy(request):
        seen.append((journal.needs_flush(), [o.status for o in journal.orders()]))
        return await place(request)

    sim.place_order = spy  # type: ignore[method-assign]
    flushes = journal.syncs
    o = w.run(w.manager.submit(_req(w), "ep1", "leg0"))
    assert seen == [(False, [OrderStatus.PENDING_NEW])]
    assert journal.syncs == flushes + 1
    assert o.status is OrderStatus.FILLED
    assert journal.needs_flush()  # the fill after the send is committed, not flushed: no wait for it
    journal.close()


def test_concurrent_intents_share_one_flush(tmp_path):
    journal = SqliteJournal(tmp_path / "execution.sqlite")
    rt = AsyncioRuntime(time.time)
    before = journal.syncs

    async def leg(cid: str) -> None:
        journal.put_order(_record(cid))
        await rt.blocking(journal.sync)
        assert not journal.needs_flush()

    async def episode() -> None:
        await rt.gather(leg("c1"), leg("c2"))

    asyncio.run(episode())
    assert journal.syncs == before + 1
    assert [o.client_id for o in journal.orders()] == ["c1", "c2"]
    journal.close()


def test_a_flag_is_flushed_as_it_is_set(tmp_path):
    journal = SqliteJournal(tmp_path / "execution.sqlite")
    journal.put_order(_record("c1"))
    assert journal.needs_flush()
    journal.set_flag("kill_switch", "test")
    assert not journal.needs_flush()
    journal.close()


def test_background_checkpoints_keep_every_write(tmp_path):
    path = tmp_path / "execution.sqlite"
    journal = SqliteJournal(path, checkpoint_every=50)
    for i in range(400):
        journal.put_order(_record(f"c{i}"))
        journal.sync()
    deadline = time.monotonic() + 10.0
    while journal._checkpointer.runs == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert journal._checkpointer.runs >= 1 and journal._checkpointer.errors == 0
    journal.close()
    again = SqliteJournal(path)
    assert len(again.orders()) == 400
    again.close()


def _resting(w: World):
    """A GTC order resting below the ask (NEW at the venue) and the FILLED state it will reach."""
    req = _req(w, price=59_000.0, tif=TimeInForce.GTC)
    o = w.run(w.manager.submit(req, "ep1", "leg0"))
    assert o.status is OrderStatus.NEW
    state = w.run(w.gws["a"].get_order(SYMBOL, req.client_id))
    return o, attrs.evolve(state, status=OrderStatus.FILLED, filled=1.0, average_price=59_000.0)


@pytest.mark.parametrize("followed", [True, False])
def test_a_waiting_order_wakes_on_the_stream_update(followed):
    w = World()
    o, filled = _resting(w)
    if followed:
        w.manager.following.add("a")
    queries = w.manager.queries
    start = w.rt.now()
    done_at = []

    async def stream_update() -> None:
        await w.rt.sleep(0.01)
        w.manager.apply(OrderUpdate(filled, (), seq=1e12, source="stream"))

    async def settle() -> None:
        await w.manager.settle(o, timeout_s=5.0, poll_s=1.0)
        done_at.append(w.rt.now())

    async def both() -> None:
        await w.rt.gather(settle(), stream_update())

    w.run(both())
    assert o.status is OrderStatus.FILLED
    assert w.manager.queries == queries
    if followed:  # the stream's update ends the wait (virtual time): no poll interval
        assert done_at[0] - start < 0.05
    else:  # no stream followed: the wait is the poll interval, as before
        assert done_at[0] - start >= 1.0


def test_process_durability_sends_without_waiting_for_the_disk(tmp_path):
    path = tmp_path / "execution.sqlite"
    journal = SqliteJournal(path, flush_before_send=False)
    w = World(journal=journal)
    flushes = journal.syncs
    o = w.run(w.manager.submit(_req(w), "ep1", "leg0"))
    assert o.status is OrderStatus.FILLED
    assert journal.syncs == flushes and not journal.needs_flush()
    journal.close()  # the close flushes what is left
    assert journal.syncs == flushes + 1
    again = SqliteJournal(path)
    assert [r.status for r in again.orders()] == [OrderStatus.FILLED]
    again.close()


@pytest.mark.parametrize("followed", [True, False])
def test_fills_come_from_the_followed_stream_not_a_rest_fetch(followed):
    w = World()
    if followed:
        w.manager.following.add("a")
    req = _req(w)
    sim = w.sims["a"]

    async def stream_update() -> None:
        await w.rt.sleep(0.08)  # after the venue filled the order (50 ms away)
        state = await sim.get_order(SYMBOL, req.client_id)
        fills = tuple(f for f in sim.all_fills() if f.client_id == req.client_id)
        w.manager.apply(OrderUpdate(state, fills, seq=1e12, source="stream"))

    async def both() -> None:
        await w.rt.gather(w.manager.submit(req, "ep1", "leg0"), stream_update())

    w.run(both())
    o = w.manager.orders[req.client_id]
    assert o.status is OrderStatus.FILLED and o.fill_qty == pytest.approx(1.0) and len(o.fills) == 1
    # followed: the stream's fill is taken, no REST fetch of recent fills; not followed: fetched
    assert w.manager.queries == (0 if followed else 1)
