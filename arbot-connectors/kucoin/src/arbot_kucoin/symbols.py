"""KuCoin ``BASE-QUOTE`` <-> unified ``BASE/QUOTE`` mapping (a core :class:`SymbolMap`).

Built from ``GET /api/v1/symbols`` or ``/api/v2/symbols`` (``symbol``, ``baseCurrency``,
``quoteCurrency``); unknown ids are split on the dash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from arbot.connectors.symbols import SymbolMap, split_on

__all__ = ["guess_unified", "kucoin_symbols", "symbols_from_body"]

#: ``BTC-USDT`` -> ``BTC/USDT``.
guess_unified = split_on("-")


def _to_venue(unified: str) -> str:
    return unified.replace("/", "-")


def kucoin_symbols(pairs: Iterable[tuple[str, str]] = ()) -> SymbolMap:
    """A symbol map with KuCoin's id format (``(venue id, unified)`` pairs preloaded)."""
    return SymbolMap(pairs, guess=guess_unified, to_venue_format=_to_venue)


def symbols_from_body(body: Mapping[str, Any] | list[Any]) -> SymbolMap:
    """The map of a symbols response body (``{"code","data":[...]}``) or its data list."""
    data = body.get("data", []) if isinstance(body, Mapping) else body
    return kucoin_symbols(
        (str(p["symbol"]), f"{p['baseCurrency']}/{p['quoteCurrency']}") for p in data
    )
