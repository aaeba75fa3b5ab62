"""Bybit symbol <-> unified ``BASE/QUOTE`` mapping.

Ids have no separator (``BTCUSDT``) and are the same for spot and linear perpetuals (keep the
category alongside). The map comes from ``GET /v5/market/instruments-info`` (``symbol``,
``baseCoin``, ``quoteCoin``); unknown ids are split on the longest known quote suffix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["KNOWN_QUOTES", "BybitSymbols", "guess_unified"]


def _instrument_list(body: Mapping[str, Any] | list[Any]) -> list[Any]:
    if isinstance(body, Mapping):
        result = body.get("result", body)
        return list(result.get("list", [])) if isinstance(result, Mapping) else []
    return list(body)

#: Quote currencies tried, longest first, when an id is not in the metadata.
KNOWN_QUOTES = ("USDT", "USDC", "BUSD", "TUSD", "EUR", "BRL", "BTC", "ETH", "MNT", "DAI", "USD")


def guess_unified(venue_symbol: str) -> str:
    """``BTCUSDT`` -> ``BTC/USDT`` by quote suffix (``_SPBL`` and similar suffixes dropped)."""
    name = venue_symbol.split("_", 1)[0].upper()
    for q in sorted(KNOWN_QUOTES, key=len, reverse=True):
        if name.endswith(q) and len(name) > len(q):
            return f"{name[: -len(q)]}/{q}"
    return name


class BybitSymbols:
    """Bidirectional id <-> unified map."""

    __slots__ = ("_to_unified", "_to_venue")

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._to_unified: dict[str, str] = {}
        self._to_venue: dict[str, str] = {}
        for venue_symbol, unified in pairs:
            self.add(venue_symbol, unified)

    @classmethod
    def from_instruments(cls, body: Mapping[str, Any] | list[Any]) -> BybitSymbols:
        """Build from an instruments-info body (``{"result":{"list":[...]}}``) or its list."""
        items = _instrument_list(body)
        return cls((str(p["symbol"]), f"{p['baseCoin']}/{p['quoteCoin']}") for p in items)

    def add(self, venue_symbol: str, unified: str) -> None:
        """Register one pair."""
        self._to_unified[venue_symbol] = unified
        self._to_venue[unified] = venue_symbol

    def update(self, other: BybitSymbols) -> None:
        """Add every pair of ``other``."""
        self._to_unified.update(other._to_unified)
        self._to_venue.update(other._to_venue)

    def to_unified(self, venue_symbol: str) -> str:
        """Unified symbol of an id (guessed when unknown)."""
        u = self._to_unified.get(venue_symbol)
        if u is None:
            u = guess_unified(venue_symbol)
            self.add(venue_symbol, u)
        return u

    def to_venue(self, unified: str) -> str:
        """WS id of a unified symbol."""
        v = self._to_venue.get(unified)
        return v if v is not None else unified.replace("/", "")

    def __contains__(self, venue_symbol: object) -> bool:
        return venue_symbol in self._to_unified

    def __len__(self) -> int:
        return len(self._to_venue)
