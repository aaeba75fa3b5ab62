"""Trading: typed orders, fills and balances, the gateway protocol and its errors."""

from arbot.trading.errors import (
    AmbiguousOrderState,
    AuthenticationFailed,
    ClockSkew,
    DuplicateClientId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.gateway import TradingGateway
from arbot.trading.types import (
    Balance,
    DepositWithdrawNetwork,
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TimeInForce,
    TradingFee,
)

__all__ = [
    "AmbiguousOrderState",
    "AuthenticationFailed",
    "Balance",
    "ClockSkew",
    "DepositWithdrawNetwork",
    "DuplicateClientId",
    "Fill",
    "OrderNotFound",
    "OrderRejected",
    "OrderRequest",
    "OrderState",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "RateLimited",
    "TimeInForce",
    "TradingError",
    "TradingFee",
    "TradingGateway",
]
