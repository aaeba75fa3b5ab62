"""Upbit market code (``QUOTE-BASE``, quote first) <-> unified ``BASE/QUOTE``.

``KRW-BTC`` -> ``BTC/KRW``, ``BTC-ETH`` -> ``ETH/BTC``, ``USDT-XRP`` -> ``XRP/USDT``. The map is a
core :class:`~arbot.connectors.symbols.SymbolMap` built from ``GET /v1/market/all``; codes are
upper case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from arbot.connectors.symbols import SymbolMap

__all__ = ["quotes", "symbols_from_market_all", "to_unified", "to_venue", "upbit_symbols"]


def to_unified(code: str) -> str:
    """``KRW-BTC`` (quote first) -> ``BTC/KRW``."""
    quote, _, base = code.partition("-")
    return f"{base}/{quote}" if base else code


def to_venue(symbol: str) -> str:
    """``BTC/KRW`` -> ``KRW-BTC``."""
    base, _, quote = symbol.partition("/")
    return f"{quote}-{base}" if quote else symbol


def upbit_symbols(codes: Iterable[str] = ()) -> SymbolMap:
    """A symbol map of quote-first market codes (``codes`` preloaded)."""
    return SymbolMap(((c, to_unified(c)) for c in codes), guess=to_unified, to_venue_format=to_venue)


def symbols_from_market_all(body: list[Any]) -> SymbolMap:
    """The map of a ``/v1/market/all`` body (a list of ``{"market": ...}`` records)."""
    return upbit_symbols(str(m["market"]) for m in body)


def quotes(symbols: SymbolMap) -> set[str]:
    """The quote currencies of a map (e.g. ``{"KRW", "BTC", "USDT"}``)."""
    return {u.partition("/")[2] for u in symbols.unified_symbols()}
