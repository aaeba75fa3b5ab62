"""Bybit v5 instruments -> :class:`arbot.market.MarketInfo`.

Source: ``GET /v5/market/instruments-info?category=spot|linear`` (``result.list``):
``priceFilter.tickSize``; ``lotSizeFilter.basePrecision`` (spot) or ``qtyStep`` (linear) as
the step; ``lotSizeFilter.minOrderQty``; ``lotSizeFilter.minOrderAmt`` (spot) or
``minNotionalValue`` (linear) as the minimum notional; ``status == "Trading"``.
Fee defaults: spot Non-VIP **0.10 % / 0.10 %** (Bybit help centre, ``shared/exchanges/bybit.md``
§9); linear Non-VIP **0.055 % taker / 0.02 % maker** (Bybit's published derivatives fee
schedule; not in the shared notes -- override with ``GET /v5/account/fee-rate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arbot.connectors.parsing import number
from arbot.market import MarketInfo

from arbot_bybit.symbols import _instrument_list, unified_from_instrument

__all__ = ["DEFAULT_FEES", "parse_instruments"]

#: (taker, maker) per category.
DEFAULT_FEES = {"spot": (0.001, 0.001), "linear": (0.00055, 0.0002), "inverse": (0.00055, 0.0002)}




def parse_instruments(
    body: Mapping[str, Any] | list[Any], category: str = "spot", venue: str = "bybit"
) -> list[MarketInfo]:
    """Every instrument of an instruments-info body as a ``MarketInfo``."""
    if isinstance(body, Mapping):
        category = str(body.get("result", {}).get("category") or category)
    taker, maker = DEFAULT_FEES.get(category, DEFAULT_FEES["spot"])
    out = []
    for p in _instrument_list(body):
        lot = p.get("lotSizeFilter", {})
        out.append(
            MarketInfo(
                venue=venue,
                symbol=unified_from_instrument(p, category),
                base=str(p["baseCoin"]),
                quote=str(p["quoteCoin"]),
                venue_symbol=str(p["symbol"]),
                tick_size=number(p.get("priceFilter", {}).get("tickSize")),
                step_size=number(lot.get("qtyStep") or lot.get("basePrecision")),
                min_qty=number(lot.get("minOrderQty")),
                min_notional=number(lot.get("minOrderAmt") or lot.get("minNotionalValue")),
                taker_fee=taker,
                maker_fee=maker,
                active=p.get("status", "Trading") == "Trading",
            )
        )
    return out
