"""Simulated transfers for paper and backtest runs: the fee is charged and the funds arrive late.

A transfer debits ``amount`` from the source venue at once; ``amount - fee`` is held on the
pseudo-venue :data:`IN_TRANSIT` (so the run's equity drops by the fee only, and the balance
snapshots show what is on its way) and credited to the destination when its confirmation delay
has passed on the run's clock.

A simulated executor keeps its own ledger per venue (what its simulated venues let orders
spend); :attr:`SimulatedTransfers.ledgers`, when set, gives it, and transfers move it alike.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

import attrs
from arbot.portfolio import Portfolio

from arbot_rebalancer.planner import PlannedTransfer

__all__ = ["IN_TRANSIT", "SimulatedTransfers", "TransitRecord"]

#: The pseudo-venue holding simulated transfers between withdrawal and arrival.
IN_TRANSIT = "in_transit"


@attrs.frozen(slots=True)
class TransitRecord:
    """One simulated transfer: when it left and when it arrives."""

    transfer: PlannedTransfer
    sent_at: float
    arrives_at: float


class SimulatedTransfers:
    """Moves portfolio balances for planned transfers, with fee and delay."""

    def __init__(
        self, portfolio: Portfolio, ledgers: Callable[[str], dict[str, float]] | None = None
    ) -> None:
        self.portfolio = portfolio
        #: a simulated executor's ledger of a venue (None: there is none to keep in step)
        self.ledgers = ledgers
        self._pending: list[tuple[float, int, TransitRecord]] = []
        self._seq = itertools.count()
        self.sent = 0
        self.arrived = 0
        self.fees: dict[str, float] = {}
        self.fees_usd = 0.0
        self.moved_usd = 0.0

    def send(self, transfer: PlannedTransfer, now: float) -> TransitRecord | None:
        """Debit the source now (None when it no longer holds ``amount``: trades moved it)."""
        b = self.portfolio.balances
        src = (transfer.source, transfer.asset)
        if b.get(src, 0.0) < transfer.amount:
            return None
        if self.ledgers is not None:  # fetched first: a new ledger copies the portfolio
            ledger = self.ledgers(transfer.source)
            ledger[transfer.asset] = ledger.get(transfer.asset, 0.0) - transfer.amount
        b[src] -= transfer.amount
        key = (IN_TRANSIT, transfer.asset)
        b[key] = b.get(key, 0.0) + transfer.delivered
        price = self.portfolio.usd_price(transfer.asset)
        self.fees[transfer.asset] = self.fees.get(transfer.asset, 0.0) + transfer.fee
        if price == price:
            self.fees_usd += transfer.fee * price
            self.moved_usd += transfer.amount * price
        record = TransitRecord(transfer, now, now + transfer.minutes * 60.0)
        heapq.heappush(self._pending, (record.arrives_at, next(self._seq), record))
        self.sent += 1
        return record

    def settle(self, now: float) -> list[TransitRecord]:
        """Credit every transfer due by ``now`` to its destination; return them."""
        done: list[TransitRecord] = []
        b = self.portfolio.balances
        while self._pending and self._pending[0][0] <= now:
            record = heapq.heappop(self._pending)[2]
            t = record.transfer
            key = (IN_TRANSIT, t.asset)
            b[key] = b.get(key, 0.0) - t.delivered
            if abs(b[key]) < 1e-12:
                b[key] = 0.0
            if self.ledgers is not None:  # fetched first: a new ledger copies the portfolio
                ledger = self.ledgers(t.destination)
                ledger[t.asset] = ledger.get(t.asset, 0.0) + t.delivered
            dst = (t.destination, t.asset)
            b[dst] = b.get(dst, 0.0) + t.delivered
            self.arrived += 1
            done.append(record)
        return done

    def assets_in_flight(self) -> set[str]:
        """Assets with a transfer on its way."""
        return {record.transfer.asset for _, _, record in self._pending}

    def in_flight(self) -> int:
        """Transfers sent and not yet arrived."""
        return len(self._pending)

    def next_arrival(self) -> float:
        """When the next transfer arrives (inf when none is in flight)."""
        return self._pending[0][0] if self._pending else float("inf")
