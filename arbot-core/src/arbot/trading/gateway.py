"""The trading gateway protocol: what the execution layer calls on a venue.

A connector's trading part (kept apart from its market data part, as nautilus_trader keeps
execution and data clients apart) implements :class:`TradingGateway`. The simulated gateway
of backtest and paper mode implements the same protocol, so the order manager and leg-risk
machine are the same code in every mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, runtime_checkable

from arbot.trading.types import (
    Balance,
    DepositWithdrawNetwork,
    Fill,
    OrderRequest,
    OrderState,
    OrderUpdate,
    TradingFee,
    WalletTransfer,
)

__all__ = ["TradingGateway", "WalletGateway"]


@runtime_checkable
class TradingGateway(Protocol):
    """Private API of one venue. Every method raises :mod:`arbot.trading.errors` on failure."""

    venue: str

    def new_client_id(self) -> str:
        """A client order id in the venue's own format, unique across restarts."""
        ...

    async def start(self) -> None:
        """Sync the clock, load what signing needs, open the private stream if any."""
        ...

    async def close(self) -> None:
        """Close sessions and streams."""
        ...

    async def place_order(self, request: OrderRequest) -> OrderState:
        """Send one order; the answer is NEW/FILLED/... or an exception (never a guess)."""
        ...

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """Cancel by client id; raises OrderNotFound when the venue does not know it."""
        ...

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """Cancel every open order of ``symbol``."""
        ...

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """The order by client id; raises OrderNotFound when the venue does not know it."""
        ...

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """Open orders (of one symbol, or all)."""
        ...

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """Recent fills of ``symbol`` with the venue's trade ids."""
        ...

    async def balances(self) -> dict[str, Balance]:
        """Free and locked balance per asset."""
        ...

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """The account's maker/taker fees."""
        ...

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """Deposit/withdrawal networks of ``asset`` with fees and minimums."""
        ...

    def updates(self) -> AsyncIterator[OrderUpdate]:
        """Order updates and fills from the private stream (or polling) as they arrive."""
        ...


@runtime_checkable
class WalletGateway(Protocol):
    """Withdrawals and deposits of one venue (signed with a key that has withdrawal rights:
    never the trading key). A venue whose API offers no withdrawals raises
    :class:`~arbot.trading.errors.NotSupported` and says so in ``supports_withdrawals``."""

    venue: str
    #: False where the venue's API (or this connector) cannot withdraw.
    supports_withdrawals: bool

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """Deposit/withdrawal networks of ``asset`` with fees and minimums."""
        ...

    async def withdraw(self, asset: str, network: str, amount: float, address: str) -> str:
        """Request a withdrawal of ``amount`` (the fee is taken from it); the venue's id. A
        missing answer raises AmbiguousOrderState: never resend, look the history up."""
        ...

    async def withdrawal(self, withdrawal_id: str) -> WalletTransfer:
        """The withdrawal's state now (OrderNotFound when the venue does not know it)."""
        ...

    async def withdrawal_completed(self, withdrawal_id: str) -> bool:
        """True once the venue reports the withdrawal sent and confirmed."""
        ...

    async def deposits(self, asset: str | None = None) -> Sequence[WalletTransfer]:
        """Recent deposits (of one asset, or all), pending ones included."""
        ...

    async def close(self) -> None:
        """Release the connection."""
        ...
