"""The trading interface: typed requests, order states, fills, balances, fees and networks.

A venue's *trading gateway* (see :class:`arbot.trading.gateway.TradingGateway`) speaks these
types; the order manager of the execution layer calls nothing else. Prices and sizes are
floats inside the engine and become decimal strings, rounded to the market's tick and step,
only at the wire boundary (:mod:`arbot.trading.precision`).
"""

from __future__ import annotations

import enum

import attrs

from arbot.events import Side

__all__ = [
    "Balance",
    "DepositWithdrawNetwork",
    "Fill",
    "OrderRequest",
    "OrderState",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "TimeInForce",
    "TradingFee",
    "TransferState",
    "WalletTransfer",
]


class OrderType(enum.Enum):
    """How an order is priced."""

    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(enum.Enum):
    """How long an order lives: good till cancelled, immediate-or-cancel, fill-or-kill, post-only."""

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "POST_ONLY"


class OrderStatus(enum.Enum):
    """The order manager's states (DESIGN §8). UNKNOWN: sent, and no definite answer yet."""

    PENDING_NEW = "PENDING_NEW"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        """True for states no later update can leave."""
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


@attrs.frozen(slots=True)
class OrderRequest:
    """One order as the strategy wants it; ``client_id`` is in the venue's own format."""

    venue: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: float
    client_id: str
    price: float | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False


@attrs.frozen(slots=True)
class Fill:
    """One execution of an order, identified by the venue's trade id (deduplication key)."""

    venue: str
    symbol: str
    order_id: str
    client_id: str
    trade_id: str
    side: Side
    price: float
    quantity: float
    fee: float
    fee_asset: str
    ts: float
    is_maker: bool = False


@attrs.frozen(slots=True)
class OrderState:
    """What a venue says about one order: status, cumulative filled size and average price."""

    venue: str
    symbol: str
    order_id: str
    client_id: str
    status: OrderStatus
    side: Side
    quantity: float
    filled: float
    price: float | None = None
    average_price: float | None = None
    ts: float = 0.0


@attrs.frozen(slots=True)
class OrderUpdate:
    """An order-state change from a private stream or a REST answer, with the fills it carries.

    ``seq`` orders updates of one order as the venue ordered them (a venue update time or
    sequence number); the order manager merges REST and stream updates by it.
    """

    state: OrderState
    fills: tuple[Fill, ...] = ()
    seq: float = 0.0
    source: str = "rest"


@attrs.frozen(slots=True)
class Balance:
    """Free and locked amount of one asset on one venue."""

    asset: str
    free: float
    locked: float

    @property
    def total(self) -> float:
        """free + locked."""
        return self.free + self.locked


@attrs.frozen(slots=True)
class TradingFee:
    """The account's maker and taker fee fractions for one symbol (0.001 = 0.1 %)."""

    symbol: str
    maker: float
    taker: float


@attrs.frozen(slots=True)
class DepositWithdrawNetwork:
    """One network an asset can move on: fee, minimum, confirmations and whether it is open."""

    asset: str
    network: str
    withdraw_fee: float
    withdraw_min: float
    deposit_enabled: bool
    withdraw_enabled: bool
    confirmations: int = 0
    estimated_minutes: float | None = None


class TransferState(enum.Enum):
    """Where a deposit or withdrawal stands: on its way, done (credited / sent and confirmed),
    or failed (refused, cancelled, bounced)."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@attrs.frozen(slots=True)
class WalletTransfer:
    """One deposit or withdrawal as the venue reports it. ``amount`` is what was asked for (a
    withdrawal) or credited (a deposit); ``fee`` the network fee the venue charged."""

    venue: str
    kind: str  # "deposit" | "withdrawal"
    transfer_id: str
    asset: str
    network: str
    amount: float
    fee: float
    state: TransferState
    address: str = ""
    txid: str = ""
    ts: float = 0.0
