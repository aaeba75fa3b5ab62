"""Upbit market code (``QUOTE-BASE``, quote first) <-> unified ``BASE/QUOTE``.

``KRW-BTC`` -> ``BTC/KRW``, ``BTC-ETH`` -> ``ETH/BTC``, ``USDT-XRP`` -> ``XRP/USDT``. Built from
``GET /v1/market/all``; codes are upper case.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["UpbitSymbols", "to_unified", "to_venue"]


def to_unified(code: str) -> str:
    """``KRW-BTC`` -> ``BTC/KRW``."""
    quote, _, base = code.partition("-")
    return f"{base}/{quote}" if base else code


def to_venue(symbol: str) -> str:
    """``BTC/KRW`` -> ``KRW-BTC``."""
    base, _, quote = symbol.partition("/")
    return f"{quote}-{base}" if quote else symbol


class UpbitSymbols:
    """The set of listed markets with both directions of the mapping."""

    __slots__ = ("_to_unified", "_to_venue")

    def __init__(self, codes: Iterable[str] = ()) -> None:
        self._to_unified: dict[str, str] = {}
        self._to_venue: dict[str, str] = {}
        for code in codes:
            self.add(code)

    @classmethod
    def from_market_all(cls, body: list[Any]) -> UpbitSymbols:
        """Build from the ``/v1/market/all`` body (a list of ``{"market": ...}`` records)."""
        return cls(str(m["market"]) for m in body)

    def add(self, code: str) -> None:
        """Register one market code."""
        u = to_unified(code)
        self._to_unified[code] = u
        self._to_venue[u] = code

    def to_unified(self, code: str) -> str:
        """Unified symbol of a market code."""
        u = self._to_unified.get(code)
        return u if u is not None else to_unified(code)

    def to_venue(self, symbol: str) -> str:
        """Market code of a unified symbol."""
        v = self._to_venue.get(symbol)
        return v if v is not None else to_venue(symbol)

    def quotes(self) -> set[str]:
        """The quote currencies listed (e.g. ``{"KRW", "BTC", "USDT"}``)."""
        return {u.partition("/")[2] for u in self._to_venue}

    def __contains__(self, code: object) -> bool:
        return code in self._to_unified

    def __len__(self) -> int:
        return len(self._to_unified)
