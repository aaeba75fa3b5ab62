"""Trading: typed orders, fills and balances, the gateway protocol and its errors."""

from arbot.trading.errors import (
    AmbiguousOrderState,
    AuthenticationFailed,
    ClockSkew,
    DuplicateClientId,
    NotSupported,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.gateway import TradingGateway, WalletGateway
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
    TransferState,
    WalletTransfer,
)

__all__ = [
    "AmbiguousOrderState",
    "AuthenticationFailed",
    "Balance",
    "ClockSkew",
    "DepositWithdrawNetwork",
    "DuplicateClientId",
    "Fill",
    "NotSupported",
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
    "TransferState",
    "WalletGateway",
    "WalletTransfer",
]
