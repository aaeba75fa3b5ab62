"""Gate.io ``BASE_QUOTE`` <-> unified ``BASE/QUOTE`` mapping.

Built from ``GET /api/v4/spot/currency_pairs`` (``id``, ``base``, ``quote``); unknown ids are
split on the underscore.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["GateSymbols", "guess_unified"]


def guess_unified(pair: str) -> str:
    """``BTC_USDT`` -> ``BTC/USDT``."""
    base, _, quote = pair.partition("_")
    return f"{base}/{quote}" if quote else pair


class GateSymbols:
    """Bidirectional currency pair <-> unified map."""

    __slots__ = ("_to_unified", "_to_venue")

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._to_unified: dict[str, str] = {}
        self._to_venue: dict[str, str] = {}
        for venue_symbol, unified in pairs:
            self.add(venue_symbol, unified)

    @classmethod
    def from_currency_pairs(cls, body: list[Any]) -> GateSymbols:
        """Build from the ``/spot/currency_pairs`` body (a list of pair records)."""
        return cls((str(p["id"]), f"{p['base']}/{p['quote']}") for p in body)

    def add(self, venue_symbol: str, unified: str) -> None:
        """Register one pair."""
        self._to_unified[venue_symbol] = unified
        self._to_venue[unified] = venue_symbol

    def update(self, other: GateSymbols) -> None:
        """Add every pair of ``other``."""
        self._to_unified.update(other._to_unified)
        self._to_venue.update(other._to_venue)

    def to_unified(self, venue_symbol: str) -> str:
        """Unified symbol of a currency pair."""
        u = self._to_unified.get(venue_symbol)
        if u is None:
            u = guess_unified(venue_symbol)
            self.add(venue_symbol, u)
        return u

    def to_venue(self, unified: str) -> str:
        """Currency pair of a unified symbol."""
        v = self._to_venue.get(unified)
        return v if v is not None else unified.replace("/", "_")

    def __contains__(self, venue_symbol: object) -> bool:
        return venue_symbol in self._to_unified

    def __len__(self) -> int:
        return len(self._to_unified)
