"""The execution-journal contract: reusable tests every durable :class:`JournalStore` passes.

Subclass :class:`JournalConformance` in a test module (the class name must start with ``Test``)
and give it an ``open_journal`` fixture: a callable that opens the store under test, and when
called again after :meth:`~arbot.execution.journal.JournalStore.close`, opens *the same* store
(a restart of the bot)::

    class TestMyJournal(JournalConformance):
        @pytest.fixture
        def open_journal(self, tmp_path):
            return lambda: MyJournal(tmp_path / "j")

Parametrize the fixture to run the suite over several stores. The suite checks the protocol
(every record reads back exactly as written, upserts, fill deduplication, open-only filters,
flags, the order of the log), that everything survives a close and reopen, and the restart
scenarios the journal exists for: a crash after an intent, a crash after the venue filled an
unacknowledged order, a kill switch engaged before a restart -- run with the production order
manager, leg-risk machine and reconciler on simulated venues.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from arbot.events import Side
from arbot.execution.journal import (
    EpisodeRecord,
    JournalStore,
    OrderRecord,
    Transition,
    replay_positions,
)
from arbot.execution.killswitch import KILL_FLAG, KillSwitch
from arbot.execution.orders import OrderPolicy
from arbot.execution.reconcile import Reconciler
from arbot.testing.execution import SYMBOL, World, approx_dict
from arbot.trading.types import Fill, OrderRequest, OrderStatus, OrderType, TimeInForce

__all__ = ["JournalConformance", "Opener"]

#: Opens the store under test (again, after a close: the same store).
Opener = Callable[[], JournalStore]


def _order(
    cid: str,
    status: OrderStatus = OrderStatus.PENDING_NEW,
    *,
    price: float | None = 60_010.000000001,
    order_type: OrderType = OrderType.LIMIT,
    order_id: str = "",
    filled: float = 0.0,
    cost: float = 0.0,
    fee: float = 0.0,
) -> OrderRecord:
    return OrderRecord(
        cid, "ep1", "leg0", "a", SYMBOL, Side.BUY, order_type, TimeInForce.IOC, 0.123456789012345, price,
        status, 1_700_000_000.123456, order_id, filled, cost, fee,
    )  # fmt: skip


def _fill(trade_id: str, qty: float = 0.1, price: float = 60_000.5, venue: str = "a") -> Fill:
    return Fill(venue, SYMBOL, "o-1", "c-1", trade_id, Side.BUY, price, qty, 0.0001, "BTC", 1_700_000_001.5)


def _req(w: World, venue: str = "a", tif: TimeInForce = TimeInForce.IOC) -> OrderRequest:
    gw = w.gws[venue]
    return OrderRequest(venue, SYMBOL, Side.BUY, OrderType.LIMIT, 1.0, gw.new_client_id(), 60_010.0, tif)


class JournalConformance:
    """The contract of a durable write-ahead journal (see the module docstring)."""

    # -- the protocol -------------------------------------------------------------------

    def test_an_intent_reads_back_exactly_and_survives_a_reopen(self, open_journal: Opener) -> None:
        j = open_journal()
        intent = _order("c-1", price=None, order_type=OrderType.MARKET)
        j.put_order(intent)
        assert j.orders() == [intent]
        j.close()
        j = open_journal()
        try:
            assert j.orders() == [intent]
            assert j.orders(open_only=True) == [intent]
        finally:
            j.close()

    def test_after_sync_an_intent_needs_no_flush_before_its_request(self, open_journal: Opener) -> None:
        """The order manager sends a request only when ``needs_flush()`` is False (after ``sync()``)."""
        j = open_journal()
        try:
            j.put_order(_order("c-sync"))
            j.sync()
            assert j.needs_flush() is False
            assert [o.client_id for o in j.orders()] == ["c-sync"]
        finally:
            j.close()

    def test_an_order_is_replaced_by_its_transitions_and_terminal_ones_are_not_open(
        self, open_journal: Opener
    ) -> None:
        j = open_journal()
        try:
            j.put_order(_order("c-1"))
            j.put_order(_order("c-2"))
            done = _order("c-1", OrderStatus.FILLED, order_id="v-9", filled=0.12, cost=7201.2, fee=0.00012)
            j.put_order(done)
            assert {o.client_id: o for o in j.orders()} == {"c-1": done, "c-2": _order("c-2")}
            assert [o.client_id for o in j.orders(open_only=True)] == ["c-2"]
        finally:
            j.close()

    def test_a_fill_is_journaled_once_per_venue_trade_id(self, open_journal: Opener) -> None:
        j = open_journal()
        f1, f2, other_venue = _fill("t-1"), _fill("t-2", 0.05, 60_001.25), _fill("t-1", venue="b")
        assert j.put_fill(f1, "ep1") is True
        assert j.put_fill(f1, "ep1") is False
        assert j.put_fill(f2, "ep1") is True
        assert j.put_fill(other_venue, "ep1") is True  # the same trade id at another venue is another fill
        j.close()
        j = open_journal()
        try:
            assert j.put_fill(f2, "ep1") is False  # still known after a restart
            assert j.fills() == [f1, f2, other_venue]
            pos = replay_positions(j.fills())
            assert math.isclose(pos[("a", "BTC")], 0.15 - 0.0002) and math.isclose(pos[("b", "BTC")], 0.0999)
        finally:
            j.close()

    def test_episodes_upsert_and_closed_ones_are_not_open(self, open_journal: Opener) -> None:
        j = open_journal()
        try:
            e1 = EpisodeRecord("ep1", "opp-1", "spatial", "SENDING", "legs sent", 10.0, 12.5)
            e2 = EpisodeRecord("ep2", "opp-2", "triangular", "DIVERGED", "leg b rejected", 11.0)
            j.put_episode(e1)
            j.put_episode(e2)
            e1_done = EpisodeRecord("ep1", "opp-1", "spatial", "DONE", "both legs filled", 12.0, 12.5)
            j.put_episode(e1_done)
            assert {e.episode_id: e for e in j.episodes()} == {"ep1": e1_done, "ep2": e2}
            assert j.episodes(open_only=True) == [e2]
        finally:
            j.close()

    def test_the_transition_log_keeps_its_order_per_key(self, open_journal: Opener) -> None:
        j = open_journal()
        log = [
            Transition(1.0, "order", "c-1", "PENDING_NEW", "intent: leg0"),
            Transition(1.5, "episode", "ep1", "SENDING", "legs sent"),
            Transition(2.0, "order", "c-1", "FILLED", "rest: venue says FILLED"),
        ]
        for t in log:
            j.log(t)
        j.close()
        j = open_journal()
        try:
            assert j.transitions() == log
            assert j.transitions("c-1") == [log[0], log[2]]
            assert j.transitions("nothing") == []
        finally:
            j.close()

    def test_flags_are_set_cleared_and_survive_a_reopen(self, open_journal: Opener) -> None:
        j = open_journal()
        j.set_flag(KILL_FLAG, "operator")
        j.set_flag("blocked:a:BTC/USDT", "external order")
        j.set_flag(KILL_FLAG, "operator, again")
        j.set_flag("blocked:a:BTC/USDT", None)
        j.set_flag("never-set", None)
        j.close()
        j = open_journal()
        try:
            assert j.flags() == {KILL_FLAG: "operator, again"}
        finally:
            j.close()

    # -- restart scenarios ------------------------------------------------------------------

    def test_crash_after_the_intent_is_rejected_after_bounded_lookups(self, open_journal: Opener) -> None:
        w = World(journal=open_journal())
        w.journal.put_episode(EpisodeRecord("ep1", "opp-1", "spatial", "SENDING", "legs sent", 1000.0))
        order = w.manager.prepare(_req(w), "ep1", "leg0")  # journaled; the process dies before sending
        w.journal.close()
        w2 = World(journal=open_journal(), market=w.market, sims=w.sims, runtime=w.rt, run_id="run2",
                   order_policy=OrderPolicy(lookup_attempts=3))  # fmt: skip
        try:
            rep = w2.run(Reconciler(w2.journal, w2.manager, w2.kill, w2.rt).run())
            assert rep.ready and rep.resolved[order.client_id] is OrderStatus.REJECTED
            assert w.sims["a"].orders_received == 0
            assert rep.episodes == {"ep1": "MISSED"}
            assert w2.journal.orders(open_only=True) == [] and w2.journal.episodes(open_only=True) == []
        finally:
            w2.journal.close()

    def test_crash_after_the_venue_filled_adopts_the_order_and_replays_its_fills(
        self, open_journal: Opener
    ) -> None:
        w = World(journal=open_journal())
        w.journal.put_episode(EpisodeRecord("ep1", "opp-1", "spatial", "SENDING", "legs sent", 1000.0))
        order = w.manager.prepare(_req(w), "ep1", "leg0")
        w.run(w.sims["a"].place_order(order.request))  # reached the venue and filled; nothing after
        w.journal.close()
        w2 = World(journal=open_journal(), market=w.market, sims=w.sims, runtime=w.rt, run_id="run2")
        try:
            rep = w2.run(Reconciler(w2.journal, w2.manager, w2.kill, w2.rt).run())
            assert rep.resolved[order.client_id] is OrderStatus.FILLED
            assert w.sims["a"].orders_received == 1  # adopted, never placed again
            assert approx_dict(replay_positions(w2.journal.fills()), w.ledger_delta())
            assert rep.episodes == {"ep1": "HELD"}
        finally:
            w2.journal.close()

    def test_a_kill_switch_survives_a_restart(self, open_journal: Opener) -> None:
        w = World(journal=open_journal())
        w.run(w.kill.engage("operator: arbot stop", w.manager, w.gws))
        w.journal.close()
        w2 = World(journal=open_journal(), market=w.market, sims=w.sims, runtime=w.rt, run_id="run2")
        try:
            assert w2.kill.engaged
            res = w2.run(w2.machine.run("opp-9", w2.opportunity(oid="opp-9")))
            assert res.state == "BLOCKED" and not res.orders
            w2.kill.clear("operator cleared")
            assert not KillSwitch(w2.journal, w2.rt).engaged
        finally:
            w2.journal.close()
