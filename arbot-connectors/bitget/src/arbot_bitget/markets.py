"""Bitget product metadata -> :class:`arbot.market.MarketInfo`.

v1 body (``/api/spot/v1/public/products``): ``priceScale``/``quantityScale`` (decimals, so
tick = 10**-priceScale), ``minTradeAmount`` (minimum base quantity), ``takerFeeRate``/
``makerFeeRate`` (fractions, used when present), ``status`` (``online``).
v2 body (``/api/v2/spot/public/symbols``): ``pricePrecision``/``quantityPrecision``,
``minTradeAmount``, ``minTradeUSDT`` (minimum notional), fee rates, ``status``.
Fee defaults when the body has none: Non-VIP spot **0.10 % / 0.10 %**
(Bitget support "Spot Trading Fees", ``shared/exchanges/bitget.md`` §9).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arbot.connectors.parsing import number
from arbot.market import MarketInfo

__all__ = ["DEFAULT_MAKER_FEE", "DEFAULT_TAKER_FEE", "parse_contracts", "parse_products"]

DEFAULT_TAKER_FEE = 0.001
DEFAULT_MAKER_FEE = 0.001


def _scale(value: Any) -> float:
    if value in (None, ""):
        return 0.0
    return 10.0 ** -int(value)


def parse_products(body: Mapping[str, Any] | list[Any], venue: str = "bitget") -> list[MarketInfo]:
    """Every product of a v1 products / v2 symbols body as a ``MarketInfo``."""
    data = body.get("data", []) if isinstance(body, Mapping) else body
    out = []
    for p in data:
        out.append(
            MarketInfo(
                venue=venue,
                symbol=f"{p['baseCoin']}/{p['quoteCoin']}",
                base=str(p["baseCoin"]),
                quote=str(p["quoteCoin"]),
                venue_symbol=str(p.get("symbolName") or p["symbol"]),
                tick_size=_scale(p.get("priceScale", p.get("pricePrecision"))),
                step_size=_scale(p.get("quantityScale", p.get("quantityPrecision"))),
                min_qty=number(p.get("minTradeAmount")),
                min_notional=number(p.get("minTradeUSDT")),
                taker_fee=number(p.get("takerFeeRate"), DEFAULT_TAKER_FEE),
                maker_fee=number(p.get("makerFeeRate"), DEFAULT_MAKER_FEE),
                active=p.get("status", "online") == "online",
            )
        )
    return out


def parse_contracts(body: Mapping[str, Any] | list[Any], settle: str = "USDT",
                    venue: str = "bitget") -> list[MarketInfo]:
    """Every perpetual of a ``GET /api/v2/mix/market/contracts`` body as a linear
    ``MarketInfo`` (``BTC/USDT:USDT``): tick ``priceEndStep * 10**-pricePlace``, step
    ``sizeMultiplier``, minimum ``minTradeNum`` (base units), ``minTradeUSDT``, fee rates."""
    data = body.get("data", []) if isinstance(body, Mapping) else body
    out = []
    for c in data:
        if c.get("symbolType", "perpetual") != "perpetual":
            continue
        base, quote = str(c["baseCoin"]), str(c["quoteCoin"])
        out.append(MarketInfo(
            venue=venue, symbol=f"{base}/{quote}:{settle}", base=base, quote=quote,
            venue_symbol=str(c["symbol"]),
            tick_size=number(c.get("priceEndStep"), 1.0) * _scale(c.get("pricePlace")),
            step_size=number(c.get("sizeMultiplier")), min_qty=number(c.get("minTradeNum")),
            min_notional=number(c.get("minTradeUSDT")),
            taker_fee=number(c.get("takerFeeRate"), 0.0006),
            maker_fee=number(c.get("makerFeeRate"), 0.0002),
            active=c.get("symbolStatus", "normal") == "normal",
        ))
    return out
