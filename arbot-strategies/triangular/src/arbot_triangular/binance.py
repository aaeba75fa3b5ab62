"""Market metadata from a Binance ``GET /api/v3/exchangeInfo`` body (the test and bench graph)."""

from __future__ import annotations

from typing import Any

from arbot.market import MarketInfo

__all__ = ["markets_from_exchange_info"]


def markets_from_exchange_info(
    body: dict[str, Any], venue: str = "binance", taker_fee: float = 0.001
) -> list[MarketInfo]:
    """Every ``TRADING`` symbol as MarketInfo: tick from PRICE_FILTER, step from LOT_SIZE,
    minimum notional from MIN_NOTIONAL (or NOTIONAL)."""
    out = []
    for s in body["symbols"]:
        if s.get("status") != "TRADING":
            continue
        filters = {f["filterType"]: f for f in s.get("filters", [])}
        price = filters.get("PRICE_FILTER", {})
        lot = filters.get("LOT_SIZE", {})
        notional = filters.get("MIN_NOTIONAL") or filters.get("NOTIONAL") or {}
        out.append(
            MarketInfo(
                venue=venue,
                symbol=f"{s['baseAsset']}/{s['quoteAsset']}",
                base=s["baseAsset"],
                quote=s["quoteAsset"],
                venue_symbol=s["symbol"],
                tick_size=float(price.get("tickSize", 0.0)),
                step_size=float(lot.get("stepSize", 0.0)),
                min_qty=float(lot.get("minQty", 0.0)),
                min_notional=float(notional.get("minNotional", 0.0)),
                taker_fee=taker_fee,
                maker_fee=taker_fee,
            )
        )
    return out
