"""Upbit market code (``QUOTE-BASE``, quote first) <-> unified ``BASE/QUOTE``.

``KRW-BTC`` -> ``BTC/KRW``, ``BTC-ETH`` -> ``ETH/BTC``, ``USDT-XRP`` -> ``XRP/USDT``. The map is a
core :class:`~arbot.connectors.symbols.SymbolMap` (the full-book family's quote-first codes,
:mod:`arbot.connectors.fullbook`) built from ``GET /v1/market/all``; codes are upper case.
"""

from __future__ import annotations

from typing import Any

from arbot.connectors.fullbook import code_symbols, code_to_unified, unified_to_code
from arbot.connectors.symbols import SymbolMap

__all__ = ["quotes", "symbols_from_market_all", "to_unified", "to_venue", "upbit_symbols"]

#: ``KRW-BTC`` -> ``BTC/KRW``.
to_unified = code_to_unified
#: ``BTC/KRW`` -> ``KRW-BTC``.
to_venue = unified_to_code
#: A symbol map of quote-first market codes (``codes`` preloaded).
upbit_symbols = code_symbols


def symbols_from_market_all(body: list[Any]) -> SymbolMap:
    """The map of a ``/v1/market/all`` body (a list of ``{"market": ...}`` records)."""
    return code_symbols(str(m["market"]) for m in body)


def quotes(symbols: SymbolMap) -> set[str]:
    """The quote currencies of a map (e.g. ``{"KRW", "BTC", "USDT"}``)."""
    return {u.partition("/")[2] for u in symbols.unified_symbols()}
