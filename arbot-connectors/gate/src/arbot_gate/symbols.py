"""Gate.io ``BASE_QUOTE`` <-> unified ``BASE/QUOTE`` mapping (a core :class:`SymbolMap`).

Built from ``GET /api/v4/spot/currency_pairs`` (``id``, ``base``, ``quote``); unknown ids are
split on the underscore.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from arbot.connectors.symbols import SymbolMap, split_on

__all__ = ["gate_symbols", "guess_unified", "symbols_from_pairs"]

#: ``BTC_USDT`` -> ``BTC/USDT``.
guess_unified = split_on("_")


def _underscored(unified: str) -> str:
    return unified.replace("/", "_")


def gate_symbols(pairs: Iterable[tuple[str, str]] = ()) -> SymbolMap:
    """A symbol map with Gate's currency-pair format (``(pair, unified)`` pairs preloaded)."""
    return SymbolMap(pairs, guess=guess_unified, to_venue_format=_underscored)


def symbols_from_pairs(body: list[Any]) -> SymbolMap:
    """The map of a ``/spot/currency_pairs`` body (a list of pair records)."""
    return gate_symbols((str(p["id"]), f"{p['base']}/{p['quote']}") for p in body)
