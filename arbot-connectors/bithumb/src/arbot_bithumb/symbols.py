"""Bithumb symbols <-> unified ``BASE/QUOTE``.

Legacy API (``pubwss`` socket, ``/public/...`` REST): ``BTC_KRW`` (base first). Current API:
``KRW-BTC`` (quote first, like Upbit). Both map to ``BTC/KRW``. The legacy market list is the
set of keys of ``GET /public/ticker/ALL_KRW`` / ``ALL_BTC`` (every key but ``date``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["BithumbSymbols", "to_unified", "to_venue"]


def to_unified(code: str) -> str:
    """``BTC_KRW`` or ``KRW-BTC`` -> ``BTC/KRW``."""
    if "_" in code:
        base, _, quote = code.partition("_")
        return f"{base}/{quote}"
    quote, _, base = code.partition("-")
    return f"{base}/{quote}" if base else code


def to_venue(symbol: str, legacy: bool = True) -> str:
    """``BTC/KRW`` -> ``BTC_KRW`` (legacy) or ``KRW-BTC`` (current API)."""
    base, _, quote = symbol.partition("/")
    return f"{base}_{quote}" if legacy else f"{quote}-{base}"


class BithumbSymbols:
    """Listed markets, with both directions of the mapping (legacy ids by default)."""

    __slots__ = ("_to_unified", "_to_venue")

    def __init__(self) -> None:
        self._to_unified: dict[str, str] = {}
        self._to_venue: dict[str, str] = {}

    def add(self, code: str) -> None:
        """Register one market id (either style)."""
        u = to_unified(code)
        self._to_unified[code] = u
        self._to_venue.setdefault(u, code)

    def add_ticker_all(self, body: Mapping[str, Any], quote: str) -> None:
        """Register every market of a ``/public/ticker/ALL_<quote>`` body."""
        for base, row in body.get("data", {}).items():
            if base != "date" and isinstance(row, Mapping):
                self.add(f"{base}_{quote}")

    def to_unified(self, code: str) -> str:
        """Unified symbol of a market id."""
        u = self._to_unified.get(code)
        return u if u is not None else to_unified(code)

    def to_venue(self, symbol: str) -> str:
        """Market id of a unified symbol (legacy style unless registered otherwise)."""
        v = self._to_venue.get(symbol)
        return v if v is not None else to_venue(symbol)

    def __contains__(self, code: object) -> bool:
        return code in self._to_unified

    def __len__(self) -> int:
        return len(self._to_venue)
