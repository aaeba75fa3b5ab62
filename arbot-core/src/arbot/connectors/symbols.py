"""Venue symbol <-> unified symbol mapping, shared by every connector.

Unified symbols follow ccxt: ``BTC/USDT`` (spot), ``BTC/USDT:USDT`` (linear perpetual, settled
in the quote), ``BTC/USD:BTC`` (inverse, settled in the base), ``BTC/USDT:USDT-250627`` (a
dated future). :func:`market_type_of` tells the market type from the symbol alone.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable

__all__ = ["MarketType", "SymbolMap", "market_type_of", "quote_suffix_guesser", "split_on"]


class MarketType(enum.StrEnum):
    """The market types a connector may serve."""

    SPOT = "spot"
    #: Swaps and futures settled in the quote currency (USDT, USDC).
    LINEAR = "linear"
    #: Swaps and futures settled in the base currency.
    INVERSE = "inverse"


def market_type_of(symbol: str) -> MarketType:
    """The market type of a unified symbol: no ``:settle`` is spot; a settle currency equal to
    the base is inverse; any other settle currency is linear."""
    pair, sep, settle = symbol.partition(":")
    if not sep:
        return MarketType.SPOT
    base = pair.partition("/")[0]
    return MarketType.INVERSE if settle.partition("-")[0] == base else MarketType.LINEAR


def split_on(separator: str) -> Callable[[str], str]:
    """A guesser for ids like ``BTC-USDT`` / ``BTC_USDT``: ``"BTC/USDT"``; ids without the
    separator are returned unchanged."""

    def guess(venue_symbol: str) -> str:
        base, sep, quote = venue_symbol.partition(separator)
        return f"{base}/{quote}" if sep and quote else venue_symbol

    return guess


def quote_suffix_guesser(quotes: Iterable[str]) -> Callable[[str], str]:
    """A guesser for ids without separator (Bybit, Bitget): ``BTCUSDT`` -> ``BTC/USDT`` by the
    longest known quote suffix; a ``_SPBL``-like suffix is dropped first. Ids that end in no
    known quote are returned upper-cased, without that suffix."""
    by_length = sorted(quotes, key=len, reverse=True)

    def guess(venue_symbol: str) -> str:
        name = venue_symbol.split("_", 1)[0].upper()
        for q in by_length:
            if name.endswith(q) and len(name) > len(q):
                return f"{name[: -len(q)]}/{q}"
        return name

    return guess


def _dashed(unified: str) -> str:
    return unified.replace("/", "-")


class SymbolMap:
    """A two-way map between a venue's market ids and unified symbols.

    Built from the venue's market metadata; ids the metadata did not list are converted by
    ``guess`` (and remembered), unified symbols it did not list by ``to_venue_format``.
    """

    __slots__ = ("_format", "_guess", "_to_unified", "_to_venue")

    def __init__(
        self,
        pairs: Iterable[tuple[str, str]] = (),
        *,
        guess: Callable[[str], str] | None = None,
        to_venue_format: Callable[[str], str] | None = None,
    ) -> None:
        self._guess = guess or split_on("-")
        self._format = to_venue_format or _dashed
        self._to_unified: dict[str, str] = {}
        self._to_venue: dict[str, str] = {}
        for venue_symbol, unified in pairs:
            self.add(venue_symbol, unified)

    def add(self, venue_symbol: str, unified: str) -> None:
        """Register one market."""
        self._to_unified[venue_symbol] = unified
        self._to_venue[unified] = venue_symbol

    def update(self, other: SymbolMap) -> None:
        """Add every market of ``other``."""
        self._to_unified.update(other._to_unified)
        self._to_venue.update(other._to_venue)

    def to_unified(self, venue_symbol: str) -> str:
        """Unified symbol of a venue id."""
        unified = self._to_unified.get(venue_symbol)
        if unified is None:
            unified = self._guess(venue_symbol)
            self.add(venue_symbol, unified)
        return unified

    def to_venue(self, unified: str) -> str:
        """Venue id of a unified symbol."""
        venue_symbol = self._to_venue.get(unified)
        return venue_symbol if venue_symbol is not None else self._format(unified)

    def __contains__(self, venue_symbol: object) -> bool:
        return venue_symbol in self._to_unified

    def __len__(self) -> int:
        return len(self._to_unified)

    def unified_symbols(self) -> list[str]:
        """Every unified symbol known."""
        return sorted(self._to_venue)
