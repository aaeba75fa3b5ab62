"""Fault injection around any trading gateway, for tests and chaos runs.

:class:`FaultyGateway` wraps a real gateway (simulated or a connector's) and, per call kind,
consumes a schedule of faults. Each fault is what venues really do, and its position relative
to the real call matters:

* ``reject``: the venue refuses (nothing placed) -> ``OrderRejected``;
* ``5xx``: the request dies before the venue (nothing placed) -> ``AmbiguousOrderState``;
* ``lost_ack``: the venue places the order, the answer is lost -> ``AmbiguousOrderState``;
* ``clock_skew``: refused for its timestamp (nothing placed) -> ``ClockSkew``;
* ``rate_limit``: refused with 429 (nothing placed) -> ``RateLimited``;
* ``duplicate``: the venue already has the client id -> the call goes through, then
  ``DuplicateClientId`` (what a resend after a lost ack meets);
* ``not_found``: a query or cancel answers "not found" (transiently) -> ``OrderNotFound``;
* ``ok``: pass through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from arbot.trading.errors import (
    AmbiguousOrderState,
    ClockSkew,
    DuplicateClientId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
)
from arbot.trading.gateway import TradingGateway
from arbot.trading.types import (
    Balance,
    DepositWithdrawNetwork,
    Fill,
    OrderRequest,
    OrderState,
    OrderUpdate,
    TradingFee,
)

__all__ = ["FAULTS", "FaultyGateway"]

FAULTS = frozenset({"ok", "reject", "5xx", "lost_ack", "clock_skew", "rate_limit", "duplicate", "not_found"})


class FaultyGateway:
    """A gateway that injects the scheduled faults into another gateway's calls."""

    def __init__(self, inner: TradingGateway, schedule: dict[str, list[str]] | None = None) -> None:
        self.inner = inner
        self.venue = inner.venue
        self.schedule: dict[str, list[str]] = {k: list(v) for k, v in (schedule or {}).items()}
        for kind, faults in self.schedule.items():
            bad = [f for f in faults if f not in FAULTS]
            if bad:
                raise ValueError(f"fault schedule for {kind!r}: unknown fault(s) {bad}; use {sorted(FAULTS)}")
        #: faults injected so far, by kind
        self.injected: list[tuple[str, str]] = []

    def _next(self, kind: str) -> str:
        queue = self.schedule.get(kind)
        fault = queue.pop(0) if queue else "ok"
        if fault != "ok":
            self.injected.append((kind, fault))
        return fault

    def _before(self, fault: str, what: str) -> None:
        v = self.venue
        if fault == "reject":
            raise OrderRejected(v, f"injected rejection of {what}")
        if fault == "5xx":
            raise AmbiguousOrderState(v, f"injected 503 on {what}")
        if fault == "clock_skew":
            raise ClockSkew(v, f"injected timestamp outside recvWindow on {what}")
        if fault == "rate_limit":
            raise RateLimited(v, f"injected 429 on {what}", retry_after=0.5)
        if fault == "not_found":
            raise OrderNotFound(v, f"injected not found on {what}")

    def new_client_id(self) -> str:
        """The inner gateway's id."""
        return self.inner.new_client_id()

    async def start(self) -> None:
        """Start the inner gateway."""
        await self.inner.start()

    async def close(self) -> None:
        """Close the inner gateway."""
        await self.inner.close()

    async def place_order(self, request: OrderRequest) -> OrderState:
        """Place, with the next ``place`` fault."""
        fault = self._next("place")
        self._before(fault, f"order {request.client_id}")
        state = await self.inner.place_order(request)
        if fault == "lost_ack":
            raise AmbiguousOrderState(self.venue, f"injected lost answer for {request.client_id}")
        if fault == "duplicate":
            raise DuplicateClientId(self.venue, f"injected duplicate client id {request.client_id}")
        return state

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """Cancel, with the next ``cancel`` fault."""
        self._before(self._next("cancel"), f"cancel {client_id}")
        return await self.inner.cancel_order(symbol, client_id)

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """Pass through."""
        return await self.inner.cancel_all(symbol)

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """Query, with the next ``get`` fault."""
        self._before(self._next("get"), f"query {client_id}")
        return await self.inner.get_order(symbol, client_id)

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """Open orders, with the next ``open_orders`` fault."""
        self._before(self._next("open_orders"), "open orders")
        return await self.inner.open_orders(symbol)

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """Fills, with the next ``fills`` fault."""
        self._before(self._next("fills"), "recent fills")
        return await self.inner.recent_fills(symbol, since)

    async def balances(self) -> dict[str, Balance]:
        """Pass through."""
        return await self.inner.balances()

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """Pass through."""
        return await self.inner.trading_fees(symbols)

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """Pass through."""
        return await self.inner.networks(asset)

    async def updates(self) -> AsyncIterator[OrderUpdate]:
        """The inner gateway's updates."""
        async for u in self.inner.updates():
            yield u
