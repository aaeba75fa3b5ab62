"""KuCoin ``BASE-QUOTE`` <-> unified ``BASE/QUOTE`` mapping.

Built from ``GET /api/v1/symbols`` or ``/api/v2/symbols`` (``symbol``, ``baseCurrency``,
``quoteCurrency``); unknown ids are split on the dash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["KucoinSymbols", "guess_unified"]


def guess_unified(pair: str) -> str:
    """``BTC-USDT`` -> ``BTC/USDT``."""
    base, _, quote = pair.partition("-")
    return f"{base}/{quote}" if quote else pair


class KucoinSymbols:
    """Bidirectional symbol <-> unified map."""

    __slots__ = ("_to_unified", "_to_venue")

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._to_unified: dict[str, str] = {}
        self._to_venue: dict[str, str] = {}
        for venue_symbol, unified in pairs:
            self.add(venue_symbol, unified)

    @classmethod
    def from_symbols(cls, body: Mapping[str, Any] | list[Any]) -> KucoinSymbols:
        """Build from a symbols response body (``{"code","data":[...]}``) or its data list."""
        data = body.get("data", []) if isinstance(body, Mapping) else body
        return cls((str(p["symbol"]), f"{p['baseCurrency']}/{p['quoteCurrency']}") for p in data)

    def add(self, venue_symbol: str, unified: str) -> None:
        """Register one pair."""
        self._to_unified[venue_symbol] = unified
        self._to_venue[unified] = venue_symbol

    def update(self, other: KucoinSymbols) -> None:
        """Add every pair of ``other``."""
        self._to_unified.update(other._to_unified)
        self._to_venue.update(other._to_venue)

    def to_unified(self, venue_symbol: str) -> str:
        """Unified symbol of a symbol."""
        u = self._to_unified.get(venue_symbol)
        if u is None:
            u = guess_unified(venue_symbol)
            self.add(venue_symbol, u)
        return u

    def to_venue(self, unified: str) -> str:
        """Currency pair of a unified symbol."""
        v = self._to_venue.get(unified)
        return v if v is not None else unified.replace("/", "-")

    def __contains__(self, venue_symbol: object) -> bool:
        return venue_symbol in self._to_unified

    def __len__(self) -> int:
        return len(self._to_unified)
