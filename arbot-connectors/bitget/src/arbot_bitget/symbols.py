"""Bitget symbol <-> unified ``BASE/QUOTE`` mapping.

WebSocket ids have no separator (``BTCUSDT``). The map comes from the products body:
v1 ``GET /api/spot/v1/public/products`` (``symbol`` = ``BTCUSDT_SPBL``, ``symbolName`` =
``BTCUSDT``, ``baseCoin``, ``quoteCoin``) or v2 ``GET /api/v2/spot/public/symbols``
(``symbol`` = ``BTCUSDT``). Both the WS id and the v1 REST id map to the same unified symbol.
Unknown ids are split on the longest known quote suffix (:func:`guess_unified`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["KNOWN_QUOTES", "BitgetSymbols", "guess_unified"]

#: Quote currencies tried, longest first, when an id is not in the metadata.
KNOWN_QUOTES = ("USDT", "USDC", "BUSD", "TUSD", "EUR", "BRL", "BTC", "ETH", "BGB", "DAI")


def guess_unified(venue_symbol: str) -> str:
    """``BTCUSDT`` -> ``BTC/USDT`` by quote suffix (``_SPBL`` and similar suffixes dropped)."""
    name = venue_symbol.split("_", 1)[0].upper()
    for q in sorted(KNOWN_QUOTES, key=len, reverse=True):
        if name.endswith(q) and len(name) > len(q):
            return f"{name[: -len(q)]}/{q}"
    return name


class BitgetSymbols:
    """Bidirectional WS id <-> unified map (REST v1 ids are accepted as aliases)."""

    __slots__ = ("_to_unified", "_to_venue")

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._to_unified: dict[str, str] = {}
        self._to_venue: dict[str, str] = {}
        for venue_symbol, unified in pairs:
            self.add(venue_symbol, unified)

    @classmethod
    def from_products(cls, body: Mapping[str, Any] | list[Any]) -> BitgetSymbols:
        """Build from a v1 products or v2 symbols response body (or its ``data`` list)."""
        data = body.get("data", []) if isinstance(body, Mapping) else body
        out = cls()
        for p in data:
            unified = f"{p['baseCoin']}/{p['quoteCoin']}"
            ws_id = str(p.get("symbolName") or p["symbol"])
            out.add(ws_id, unified)
            if p["symbol"] != ws_id:
                out._to_unified[str(p["symbol"])] = unified
        return out

    def add(self, venue_symbol: str, unified: str) -> None:
        """Register one pair."""
        self._to_unified[venue_symbol] = unified
        self._to_venue[unified] = venue_symbol

    def update(self, other: BitgetSymbols) -> None:
        """Add every pair of ``other``."""
        self._to_unified.update(other._to_unified)
        self._to_venue.update(other._to_venue)

    def to_unified(self, venue_symbol: str) -> str:
        """Unified symbol of a WS or REST id (guessed when unknown)."""
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
