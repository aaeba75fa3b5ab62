"""Bybit symbol <-> unified ``BASE/QUOTE`` mapping.

Ids have no separator (``BTCUSDT``) and are the same for spot and linear perpetuals (keep the
category alongside). The map comes from ``GET /v5/market/instruments-info`` (``symbol``,
``baseCoin``, ``quoteCoin``); unknown ids are split on the longest known quote suffix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from arbot.connectors.symbols import SymbolMap, quote_suffix_guesser

__all__ = ["KNOWN_QUOTES", "BybitSymbols", "bybit_format", "guess_unified"]


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
    """Id of a unified symbol from its shape: ``BTC/USDT`` -> ``BTCUSDT``."""
    return unified.replace("/", "")


class BybitSymbols(SymbolMap):
    """The core :class:`~arbot.connectors.symbols.SymbolMap` with Bybit's conversions
    (:func:`guess_unified`, :func:`bybit_format`)."""

    __slots__ = ()

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(pairs, guess=guess_unified, to_venue_format=bybit_format)

    @classmethod
    def from_instruments(cls, body: Mapping[str, Any] | list[Any]) -> BybitSymbols:
        """Build from an instruments-info body (``{"result":{"list":[...]}}``) or its list."""
        items = _instrument_list(body)
        return cls((str(p["symbol"]), f"{p['baseCoin']}/{p['quoteCoin']}") for p in items)
