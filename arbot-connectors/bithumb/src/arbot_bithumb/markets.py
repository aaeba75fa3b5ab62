"""Bithumb markets -> :class:`arbot.market.MarketInfo`.

Current API: ``GET /v1/market/all?isDetails=true`` (Upbit's shape: ``market``,
``korean_name``, ``english_name``, ``market_warning``) -- :func:`parse_market_all`; volumes
carry 8 decimals (step 1e-8), no tick table is published (tick 0).

Legacy: the captured metadata is ``GET /public/ticker/ALL_KRW`` and ``ALL_BTC`` (last prices per
market, no trading rules), so ticks and steps are 0 ("no rounding") and the live connector
must apply Bithumb's price-band tick table. Fee default: **0.25 %** maker/taker (ccxt's Bithumb
default, ``shared/exchanges/bithumb.md`` §9; accounts with fee coupons pay less -- use
``GET /v1/orders/chance``). No minimum order total is in the metadata (0 here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arbot.market import MarketInfo

__all__ = ["DEFAULT_FEE", "parse_market_all", "parse_ticker_all"]

DEFAULT_FEE = 0.0025


def parse_ticker_all(body: Mapping[str, Any], quote: str, venue: str = "bithumb") -> list[MarketInfo]:
    """Every market of a ``/public/ticker/ALL_<quote>`` body as a ``MarketInfo``."""
    return [
        MarketInfo(venue=venue, symbol=f"{base}/{quote}", base=base, quote=quote,
                   venue_symbol=f"{base}_{quote}", taker_fee=DEFAULT_FEE, maker_fee=DEFAULT_FEE)
        for base, row in body.get("data", {}).items()
        if base != "date" and isinstance(row, Mapping)
    ]


def parse_market_all(body: list[Any], venue: str = "bithumb", fee: float = DEFAULT_FEE,
                     step: float = 1e-8) -> list[MarketInfo]:
    """Every market of a current ``/v1/market/all`` body (``KRW-BTC`` codes)."""
    out = []
    for m in body:
        code = str(m["market"])
        quote, _, base = code.partition("-")
        out.append(MarketInfo(venue=venue, symbol=f"{base}/{quote}", base=base, quote=quote,
                              venue_symbol=code, step_size=step, taker_fee=fee, maker_fee=fee))
    return out
