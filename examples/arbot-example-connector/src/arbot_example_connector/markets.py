"""Toyex symbols (``BTC-USDT`` <-> ``BTC/USDT``) and its market metadata (``GET /markets``)."""

from __future__ import annotations

import msgspec
from arbot.connectors.symbols import SymbolMap
from arbot.market import MarketInfo

__all__ = ["VENUE", "parse_markets", "toyex_symbols"]

VENUE = "toyex"


def toyex_symbols() -> SymbolMap:
    """Venue ids are ``BASE-QUOTE`` (core :class:`SymbolMap`'s default conversion)."""
    return SymbolMap()


class _Market(msgspec.Struct):
    sym: str
    base: str
    quote: str
    tick: float
    step: float
    min_notional: float = 0.0
    status: str = "open"


def parse_markets(body: bytes | object, taker_fee: float, maker_fee: float) -> list[MarketInfo]:
    """Every market of a ``GET /markets`` body (``[{"sym", "base", "quote", "tick", "step",
    "min_notional", "status"}]``); Toyex publishes no fees, so the configured ones apply."""
    markets = (msgspec.json.decode(body, type=list[_Market], strict=False)
               if isinstance(body, bytes) else msgspec.convert(body, list[_Market], strict=False))
    return [MarketInfo(venue=VENUE, symbol=f"{m.base}/{m.quote}", base=m.base, quote=m.quote,
                       venue_symbol=m.sym, tick_size=m.tick, step_size=m.step,
                       min_notional=m.min_notional, taker_fee=taker_fee, maker_fee=maker_fee,
                       active=m.status == "open")
            for m in markets]
