"""Bybit symbol <-> unified symbol mapping.

Ids have no separator (``BTCUSDT``) and are the same for spot and linear perpetuals, so each
category has its own map: spot ``BTCUSDT`` is ``BTC/USDT``, linear ``BTCUSDT`` is
``BTC/USDT:USDT`` (settled in ``settleCoin``), inverse ``BTCUSD`` is ``BTC/USD:BTC``. The map
comes from ``GET /v5/market/instruments-info`` (``symbol``, ``baseCoin``, ``quoteCoin``);
unknown ids are split on the longest known quote suffix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from arbot.connectors.symbols import SymbolMap, quote_suffix_guesser

__all__ = ["KNOWN_QUOTES", "BybitSymbols", "bybit_format", "guess_unified", "unified_from_instrument"]


def _instrument_list(body: Mapping[str, Any] | list[Any]) -> list[Any]:
    if isinstance(body, Mapping):
        result = body.get("result", body)
        return list(result.get("list", [])) if isinstance(result, Mapping) else []
    return list(body)


#: Quote currencies tried, longest first, when an id is not in the metadata.
KNOWN_QUOTES = ("USDT", "USDC", "BUSD", "TUSD", "EUR", "BRL", "BTC", "ETH", "MNT", "DAI", "USD")


#: ``BTCUSDT`` -> ``BTC/USDT`` by quote suffix (``_SPBL`` and similar suffixes dropped).
guess_unified = quote_suffix_guesser(KNOWN_QUOTES)


def bybit_format(unified: str) -> str:
    """Id of a unified symbol from its shape: ``BTC/USDT`` and ``BTC/USDT:USDT`` -> ``BTCUSDT``."""
    return unified.partition(":")[0].replace("/", "")


def unified_from_instrument(p: Mapping[str, Any], category: str = "spot") -> str:
    """The unified symbol of one instruments-info entry of ``category``."""
    base, quote = str(p["baseCoin"]), str(p["quoteCoin"])
    if category == "spot":
        return f"{base}/{quote}"
    settle = str(p.get("settleCoin") or (base if category == "inverse" else quote))
    return f"{base}/{quote}:{settle}"


def _suffixed(settle_of: str) -> Callable[[str], str]:
    def guess(venue_symbol: str) -> str:
        spot = guess_unified(venue_symbol)
        base, _, quote = spot.partition("/")
        return f"{spot}:{base if settle_of == 'inverse' else quote}" if quote else spot

    return guess


class BybitSymbols(SymbolMap):
    """The core :class:`~arbot.connectors.symbols.SymbolMap` with Bybit's conversions
    (:func:`guess_unified`, :func:`bybit_format`)."""

    __slots__ = ()

    def __init__(self, pairs: Iterable[tuple[str, str]] = (), category: str = "spot") -> None:
        super().__init__(pairs, guess=guess_unified if category == "spot" else _suffixed(category),
                         to_venue_format=bybit_format)

    @classmethod
    def from_instruments(cls, body: Mapping[str, Any] | list[Any],
                         category: str = "spot") -> BybitSymbols:
        """Build from an instruments-info body (``{"result":{"list":[...]}}``) or its list."""
        if isinstance(body, Mapping):
            category = str(body.get("result", {}).get("category") or category)
        items = _instrument_list(body)
        return cls(((str(p["symbol"]), unified_from_instrument(p, category)) for p in items),
                   category)
