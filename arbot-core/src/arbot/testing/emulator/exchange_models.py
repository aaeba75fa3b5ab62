"""The records of the emulated exchange: markets, fee tiers, networks, orders, fills, transfers.

Amounts are :class:`decimal.Decimal` inside the emulator so that balances add up exactly (the
hypothesis tests check that no money is created or destroyed beyond fees); a venue's private
API renders them as decimal strings. Everything here is venue-neutral: a venue's emulator maps
:class:`RejectReason` and the other exchange errors onto its own codes and messages.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from arbot.errors import ArbotError
from arbot.events import Side
from arbot.trading.types import OrderStatus, OrderType, TimeInForce

__all__ = [
    "Account",
    "AckLost",
    "ExchangeError",
    "ExchangeEvent",
    "ExchangeFill",
    "ExchangeOrder",
    "ExchangeRateLimited",
    "ExchangeReject",
    "ExchangeServerError",
    "FeeAsset",
    "FeeTier",
    "MarketRules",
    "NetworkSpec",
    "OrderSnapshot",
    "RejectReason",
    "Transfer",
    "TransferStatus",
]

ZERO = Decimal(0)


class FeeAsset(enum.Enum):
    """Which asset a venue charges the trading fee in.

    RECEIVED: the asset the fill gives the account (base on a buy, quote on a sell: Binance
    without BNB, OKX, Bybit, Bitget spot). QUOTE: always the quote asset, on top of the cost of a
    buy (Upbit, Bithumb: KRW).
    """

    RECEIVED = "received"
    QUOTE = "quote"


@attrs.frozen(slots=True)
class MarketRules:
    """One spot market: its assets, price tick, size step and minimums.

    ``symbol`` is the unified symbol (``BTC/USDT``); venues keep their own spelling on top.
    A zero ``min_qty``/``min_notional`` means no minimum.
    """

    symbol: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal = ZERO
    min_notional: Decimal = ZERO
    max_qty: Decimal | None = None


@attrs.frozen(slots=True)
class FeeTier:
    """A fee level: maker and taker fractions (``Decimal("0.001")`` = 0.1 %)."""

    name: str
    maker: Decimal
    taker: Decimal


@attrs.frozen(slots=True)
class NetworkSpec:
    """One network an asset moves on, with its withdrawal fee, minimum and confirmation delay.

    ``confirm_seconds`` is how long (on the exchange clock) a deposit or withdrawal stays pending
    before it completes.
    """

    asset: str
    network: str
    withdraw_fee: Decimal
    withdraw_min: Decimal
    deposit_enabled: bool = True
    withdraw_enabled: bool = True
    confirmations: int = 1
    confirm_seconds: float = 0.0


class RejectReason(enum.Enum):
    """Why the exchange refused a request; each venue maps these to its own codes."""

    INSUFFICIENT_BALANCE = "insufficient_balance"
    MIN_NOTIONAL = "min_notional"
    PRICE_FILTER = "price_filter"
    LOT_SIZE = "lot_size"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    DUPLICATE_CLIENT_ID = "duplicate_client_id"
    UNKNOWN_SYMBOL = "unknown_symbol"
    ORDER_NOT_FOUND = "order_not_found"
    INVALID_REQUEST = "invalid_request"
    NETWORK_UNAVAILABLE = "network_unavailable"
    WITHDRAW_MIN = "withdraw_min"


class ExchangeError(ArbotError):
    """Base of the emulated exchange's errors."""


class ExchangeReject(ExchangeError):
    """The exchange explicitly refused the request (nothing changed)."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


class ExchangeRateLimited(ExchangeError):
    """Too many requests: the venue answers 429 with ``Retry-After``."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after} s")
        self.retry_after = retry_after


class ExchangeServerError(ExchangeError):
    """An injected server error (HTTP ``status``). ``order`` is set when the order was in fact
    accepted before the error (the client cannot tell: "execution status unknown")."""

    def __init__(self, status: int, order: OrderSnapshot | None = None) -> None:
        super().__init__(f"server error {status}" + (" (order accepted)" if order else ""))
        self.status = status
        self.order = order


class AckLost(ExchangeError):
    """The order was accepted but its answer must never reach the client (the venue layer drops
    the connection without a response)."""

    def __init__(self, order: OrderSnapshot) -> None:
        super().__init__(f"ack of order {order.order_id} lost")
        self.order = order


@attrs.define(slots=True)
class Account:
    """One API key's account: credentials (never in its repr), fee tier and balances (free,
    locked) per asset."""

    api_key: str
    secret: str = attrs.field(repr=False)
    passphrase: str | None = attrs.field(repr=False)
    tier: FeeTier
    free: dict[str, Decimal] = attrs.field(factory=dict)
    locked: dict[str, Decimal] = attrs.field(factory=dict)
    uid: int = 0

    def balance(self, asset: str) -> tuple[Decimal, Decimal]:
        """(free, locked) of ``asset``."""
        return self.free.get(asset, ZERO), self.locked.get(asset, ZERO)

    def add_free(self, asset: str, amount: Decimal) -> None:
        """Add ``amount`` (may be negative) to the free balance."""
        self.free[asset] = self.free.get(asset, ZERO) + amount

    def add_locked(self, asset: str, amount: Decimal) -> None:
        """Add ``amount`` (may be negative) to the locked balance."""
        self.locked[asset] = self.locked.get(asset, ZERO) + amount


@attrs.frozen(slots=True)
class ExchangeFill:
    """One execution of an order: the venue trade id, price, size, fee and its asset."""

    trade_id: int
    order_id: int
    client_id: str
    api_key: str
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    ts: float
    #: When the fill becomes visible to the client (a delayed fill report), exchange clock.
    visible_at: float = 0.0


@attrs.frozen(slots=True)
class OrderSnapshot:
    """An order as it stood at one moment (what REST answers and events carry).

    ``seq`` increases with every change of the order (the venue's update time/sequence).
    """

    order_id: int
    client_id: str
    api_key: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: Decimal | None
    qty: Decimal
    quote_qty: Decimal | None
    filled: Decimal
    filled_quote: Decimal
    status: OrderStatus
    created: float
    updated: float
    seq: int
    fee: Decimal
    fee_asset: str

    @property
    def remaining(self) -> Decimal:
        """Quantity not filled yet."""
        return self.qty - self.filled

    @property
    def average_price(self) -> Decimal | None:
        """Average fill price, None before the first fill."""
        return self.filled_quote / self.filled if self.filled > 0 else None


@attrs.define(slots=True)
class ExchangeOrder:
    """An order inside the exchange (mutable; hand out :meth:`snapshot` copies).

    ``qty`` is the base quantity; a market buy given by quote amount has ``quote_qty`` and a
    ``qty`` computed from the book when it executes. ``reserved`` is what is still locked for the
    order (quote for buys, base for sells).
    """

    order_id: int
    client_id: str
    api_key: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: Decimal | None
    qty: Decimal
    quote_qty: Decimal | None
    created: float
    status: OrderStatus = OrderStatus.NEW
    filled: Decimal = ZERO
    filled_quote: Decimal = ZERO
    fee: Decimal = ZERO
    fee_asset: str = ""
    reserved: Decimal = ZERO
    reserved_asset: str = ""
    updated: float = 0.0
    seq: int = 0
    stuck: bool = False
    fills: list[ExchangeFill] = attrs.field(factory=list)

    @property
    def is_open(self) -> bool:
        """True while the order can still fill."""
        return self.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)

    @property
    def remaining(self) -> Decimal:
        """Quantity not filled yet."""
        return self.qty - self.filled

    def snapshot(self) -> OrderSnapshot:
        """A frozen copy of the order now."""
        return OrderSnapshot(
            order_id=self.order_id,
            client_id=self.client_id,
            api_key=self.api_key,
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            time_in_force=self.time_in_force,
            price=self.price,
            qty=self.qty,
            quote_qty=self.quote_qty,
            filled=self.filled,
            filled_quote=self.filled_quote,
            status=self.status,
            created=self.created,
            updated=self.updated,
            seq=self.seq,
            fee=self.fee,
            fee_asset=self.fee_asset,
        )


class TransferStatus(enum.Enum):
    """A deposit's or withdrawal's state."""

    PENDING = "pending"
    COMPLETED = "completed"


@attrs.define(slots=True)
class Transfer:
    """A deposit (``amount`` credited) or withdrawal (``amount`` debited, ``amount - fee`` sent)."""

    transfer_id: int
    api_key: str
    kind: str  # "deposit" | "withdrawal"
    asset: str
    network: str
    amount: Decimal
    fee: Decimal
    address: str
    txid: str
    created: float
    completes_at: float
    status: TransferStatus = TransferStatus.PENDING


@attrs.frozen(slots=True)
class ExchangeEvent:
    """What a private stream carries: an order change, with the fill that caused it if any.

    ``deliver_at`` (exchange clock) holds an event back (the delayed-fill-report fault).
    """

    api_key: str
    order: OrderSnapshot
    fill: ExchangeFill | None = None
    deliver_at: float = 0.0
