"""Bithumb symbols <-> unified ``BASE/QUOTE`` (a core :class:`SymbolMap`).

Legacy API (``pubwss`` socket, ``/public/...`` REST): ``BTC_KRW`` (base first). Current API:
``KRW-BTC`` (quote first, like Upbit). Both map to ``BTC/KRW``; unified symbols not listed
map to the current style. The legacy market list is the set of keys of
``GET /public/ticker/ALL_KRW`` / ``ALL_BTC`` (every key but ``date``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from arbot.connectors.symbols import SymbolMap

__all__ = ["add_ticker_all", "bithumb_symbols", "to_unified", "to_venue"]


def to_unified(code: str) -> str:
    """``BTC_KRW`` or ``KRW-BTC`` -> ``BTC/KRW``."""
    if "_" in code:
        base, _, quote = code.partition("_")
        return f"{base}/{quote}"
    quote, _, base = code.partition("-")
    return f"{base}/{quote}" if base else code


def to_venue(symbol: str, legacy: bool = False) -> str:
    """``BTC/KRW`` -> ``KRW-BTC`` (current API) or ``BTC_KRW`` (legacy)."""
    base, _, quote = symbol.partition("/")
    return f"{base}_{quote}" if legacy else f"{quote}-{base}"


def bithumb_symbols(codes: Iterable[str] = ()) -> SymbolMap:
    """A symbol map accepting both id styles (``codes`` preloaded)."""
    return SymbolMap(((c, to_unified(c)) for c in codes), guess=to_unified,
                     to_venue_format=to_venue)


def add_ticker_all(symbols: SymbolMap, body: Mapping[str, Any], quote: str) -> None:
    """Register every market of a legacy ``/public/ticker/ALL_<quote>`` body."""
    for base, row in body.get("data", {}).items():
        if base != "date" and isinstance(row, Mapping):
            symbols.add(f"{base}_{quote}", f"{base}/{quote}")
