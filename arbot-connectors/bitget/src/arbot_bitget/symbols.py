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

from arbot.connectors.symbols import SymbolMap, quote_suffix_guesser

__all__ = ["KNOWN_QUOTES", "BitgetSymbols", "bitget_format", "guess_unified"]

#: Quote currencies tried, longest first, when an id is not in the metadata.
KNOWN_QUOTES = ("USDT", "USDC", "BUSD", "TUSD", "EUR", "BRL", "BTC", "ETH", "BGB", "DAI")


#: ``BTCUSDT`` -> ``BTC/USDT`` by quote suffix (``_SPBL`` and similar suffixes dropped).
guess_unified = quote_suffix_guesser(KNOWN_QUOTES)


def bitget_format(unified: str) -> str:
    """WS id of a unified symbol from its shape: ``BTC/USDT`` -> ``BTCUSDT``."""
    return unified.replace("/", "")


class BitgetSymbols(SymbolMap):
    """The core :class:`~arbot.connectors.symbols.SymbolMap` with Bitget's conversions
    (:func:`guess_unified`, :func:`bitget_format`); REST v1 ids are accepted as aliases."""

    __slots__ = ()

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(pairs, guess=guess_unified, to_venue_format=bitget_format)

    @classmethod
    def from_products(cls, body: Mapping[str, Any] | list[Any]) -> BitgetSymbols:
        """Build from a v1 products or v2 symbols response body (or its ``data`` list)."""
        data = body.get("data", []) if isinstance(body, Mapping) else body
        out = cls()
        for p in data:
            unified = f"{p['baseCoin']}/{p['quoteCoin']}"
            out.add(str(p["symbol"]), unified)  # v1 REST id (``BTCUSDT_SPBL``): an alias
            out.add(str(p.get("symbolName") or p["symbol"]), unified)  # the WS id wins
        return out

    def __len__(self) -> int:
        return len(self.unified_symbols())
