"""Binance ``exchangeInfo`` -> :class:`~arbot.market.MarketInfo`, spot
(``/api/v3/exchangeInfo``) and USDⓈ-M (``/fapi/v1/exchangeInfo``: perpetuals become
``BASE/QUOTE:MARGIN``, e.g. ``BTC/USDT:USDT``; dated contracts ``BASE/QUOTE:MARGIN-YYMMDD``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from arbot.market import MarketInfo

__all__ = ["depth_weight", "parse_exchange_info", "parse_futures_exchange_info"]

VENUE = "binance"


class _Filter(msgspec.Struct):
    filterType: str  # noqa: N815
    tickSize: float = 0.0  # noqa: N815
    stepSize: float = 0.0  # noqa: N815
    minQty: float = 0.0  # noqa: N815
    minNotional: float = 0.0  # noqa: N815
    notional: float = 0.0


class _Symbol(msgspec.Struct):
    symbol: str
    baseAsset: str  # noqa: N815
    quoteAsset: str  # noqa: N815
    status: str = "TRADING"
    filters: list[_Filter] = []
    marginAsset: str = ""  # noqa: N815
    contractType: str = ""  # noqa: N815
    deliveryDate: int = 0  # noqa: N815


class ExchangeInfo(msgspec.Struct):
    """An ``exchangeInfo`` body (the fields read)."""

    symbols: list[_Symbol]


def depth_weight(limit: int) -> int:
    """Request weight of spot ``GET /api/v3/depth`` for ``limit``."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def futures_depth_weight(limit: int) -> int:
    """Request weight of ``GET /fapi/v1/depth`` for ``limit``."""
    if limit <= 50:
        return 2
    if limit <= 100:
        return 5
    if limit <= 500:
        return 10
    return 20


def _info(body: bytes | str | Mapping[str, Any] | ExchangeInfo) -> ExchangeInfo:
    if isinstance(body, ExchangeInfo):
        return body
    if isinstance(body, bytes | bytearray | str):
        return msgspec.json.decode(body, type=ExchangeInfo, strict=False)
    return msgspec.convert(body, ExchangeInfo, strict=False)


def _filters(s: _Symbol) -> tuple[float, float, float, float]:
    tick = step = min_qty = min_notional = 0.0
    for f in s.filters:
        if f.filterType == "PRICE_FILTER":
            tick = f.tickSize
        elif f.filterType == "LOT_SIZE":
            step, min_qty = f.stepSize, f.minQty
        elif f.filterType in ("MIN_NOTIONAL", "NOTIONAL"):
            min_notional = max(min_notional, f.minNotional, f.notional)
    return tick, step, min_qty, min_notional


def parse_exchange_info(
    body: bytes | str | Mapping[str, Any] | ExchangeInfo, taker_fee: float = 0.001,
    maker_fee: float = 0.001,
) -> list[MarketInfo]:
    """MarketInfo for every symbol of a spot ``exchangeInfo`` body (bytes or decoded JSON)."""
    out = []
    for s in _info(body).symbols:
        tick, step, min_qty, min_notional = _filters(s)
        out.append(MarketInfo(
            venue=VENUE, symbol=f"{s.baseAsset}/{s.quoteAsset}", base=s.baseAsset,
            quote=s.quoteAsset, venue_symbol=s.symbol, tick_size=tick, step_size=step,
            min_qty=min_qty, min_notional=min_notional, taker_fee=taker_fee,
            maker_fee=maker_fee, active=s.status == "TRADING",
        ))
    return out


def parse_futures_exchange_info(
    body: bytes | str | Mapping[str, Any] | ExchangeInfo, taker_fee: float = 0.0005,
    maker_fee: float = 0.0002,
) -> list[MarketInfo]:
    """MarketInfo for every contract of a USDⓈ-M ``exchangeInfo`` body; the unified symbol
    carries the margin asset (``BTC/USDT:USDT``) and, for dated contracts, the expiry."""
    import datetime

    out = []
    for s in _info(body).symbols:
        tick, step, min_qty, min_notional = _filters(s)
        settle = s.marginAsset or s.quoteAsset
        symbol = f"{s.baseAsset}/{s.quoteAsset}:{settle}"
        if s.contractType not in ("", "PERPETUAL") and s.deliveryDate:
            day = datetime.datetime.fromtimestamp(s.deliveryDate / 1000, datetime.UTC)
            symbol += "-" + day.strftime("%y%m%d")
        out.append(MarketInfo(
            venue=VENUE, symbol=symbol, base=s.baseAsset, quote=s.quoteAsset,
            venue_symbol=s.symbol, tick_size=tick, step_size=step, min_qty=min_qty,
            min_notional=min_notional, taker_fee=taker_fee, maker_fee=maker_fee,
            active=s.status == "TRADING",
        ))
    return out
