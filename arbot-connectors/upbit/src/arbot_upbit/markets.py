"""Upbit markets -> :class:`arbot.market.MarketInfo`.

``GET /v1/market/all`` lists markets only (no tick/lot rules): Upbit's tick depends on the
price band (KRW table), so ``tick_size`` is 0 ("no rounding") here and the live connector must
round with the venue's tick table. Quantities are free (step 0).
Defaults, per quote currency: fees **0.05 %** on KRW markets and **0.25 %** on BTC/USDT
markets (ccxt's Upbit defaults, ``shared/exchanges/upbit.md`` §9); minimum order total
**5,000 KRW** on KRW markets (Upbit's order rules; the account's values come from
``GET /v1/orders/chance``: ``bid_fee``/``ask_fee``, ``market.bid.min_total``). Other quotes get
no minimum here. ``market_warning == "CAUTION"`` (when present) does not deactivate a market.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arbot.market import MarketInfo

from arbot_upbit.symbols import to_unified

__all__ = ["FEES_BY_QUOTE", "MIN_TOTAL_BY_QUOTE", "VOLUME_STEP", "parse_instruments",
           "parse_market_all"]

FEES_BY_QUOTE = {"KRW": 0.0005, "BTC": 0.0025, "USDT": 0.0025}
MIN_TOTAL_BY_QUOTE = {"KRW": 5000.0}
#: Order volumes carry at most 8 decimals.
VOLUME_STEP = 1e-8


def parse_instruments(body: list[Any]) -> dict[str, float]:
    """``market code -> tick size`` from a ``GET /v1/orderbook/instruments`` body (Upbit,
    v1.5.9, 2025-07: ``[{"market", "quote_currency", "tick_size", "supported_levels"}]``).
    The tick is the one at the current price (KRW ticks depend on the price band)."""
    out = {}
    for m in body:
        try:
            out[str(m["market"])] = float(m["tick_size"])
        except (KeyError, TypeError, ValueError):
            continue
    return out


def parse_market_all(
    body: list[Any],
    venue: str = "upbit",
    ticks: Mapping[str, float] | None = None,
    step: float = 0.0,
) -> list[MarketInfo]:
    """Every market of a ``/v1/market/all`` body as a ``MarketInfo`` (tick sizes from
    ``ticks``, e.g. :func:`parse_instruments`; ``step`` for every market)."""
    out = []
    for m in body:
        code = str(m["market"])
        symbol = to_unified(code)
        base, _, quote = symbol.partition("/")
        fee = FEES_BY_QUOTE.get(quote, 0.0025)
        out.append(MarketInfo(venue=venue, symbol=symbol, base=base, quote=quote,
                              venue_symbol=code, step_size=step,
                              tick_size=(ticks or {}).get(code, 0.0),
                              min_notional=MIN_TOTAL_BY_QUOTE.get(quote, 0.0),
                              taker_fee=fee, maker_fee=fee))
    return out
