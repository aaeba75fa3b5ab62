"""KuCoin symbols -> :class:`arbot.market.MarketInfo`.

Source: ``GET /api/v1/symbols`` (or v2): ``priceIncrement`` (tick), ``baseIncrement`` (step),
``baseMinSize`` (minimum quantity), ``quoteMinSize``/``minFunds`` (minimum notional, the
larger), ``enableTrading``. Fees are not in that body; defaults are the base tier
**0.10 % / 0.10 %** (ccxt's KuCoin default, ``shared/exchanges/kucoin.md`` §10; coin classes
B/C pay more -- use ``GET /api/v1/trade-fees`` for the account's rates).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arbot.market import MarketInfo

__all__ = ["DEFAULT_MAKER_FEE", "DEFAULT_TAKER_FEE", "parse_symbols"]

DEFAULT_TAKER_FEE = 0.001
DEFAULT_MAKER_FEE = 0.001


def _f(value: Any) -> float:
    try:
        return float(value) if value not in (None, "") else 0.0
    except (TypeError, ValueError):
        return 0.0


def parse_symbols(
    body: Mapping[str, Any] | list[Any],
    venue: str = "kucoin",
    taker_fee: float = DEFAULT_TAKER_FEE,
    maker_fee: float = DEFAULT_MAKER_FEE,
) -> list[MarketInfo]:
    """Every symbol of a symbols response body as a ``MarketInfo``."""
    data = body.get("data", []) if isinstance(body, Mapping) else body
    return [
        MarketInfo(
            venue=venue,
            symbol=f"{p['baseCurrency']}/{p['quoteCurrency']}",
            base=str(p["baseCurrency"]),
            quote=str(p["quoteCurrency"]),
            venue_symbol=str(p["symbol"]),
            tick_size=_f(p.get("priceIncrement")),
            step_size=_f(p.get("baseIncrement")),
            min_qty=_f(p.get("baseMinSize")),
            min_notional=max(_f(p.get("quoteMinSize")), _f(p.get("minFunds"))),
            taker_fee=taker_fee,
            maker_fee=maker_fee,
            active=bool(p.get("enableTrading", True)),
        )
        for p in data
    ]
