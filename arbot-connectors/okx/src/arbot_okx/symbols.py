"""OKX ``instId`` <-> unified symbol mapping.

Spot ``BTC-USDT`` is ``BTC/USDT``. Swaps and futures follow the ccxt convention of a settle
suffix: ``BTC-USDT-SWAP`` -> ``BTC/USDT:USDT``, ``UNI-USD-SWAP`` -> ``UNI/USD:UNI``,
``BTC-USD-220527`` -> ``BTC/USD:BTC-220527``. The map is built from the body of
``GET /api/v5/public/instruments`` (``baseCcy``/``quoteCcy`` for spot, ``uly``/``settleCcy`` for
derivatives); ids it does not know are mapped by :func:`guess_unified`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from arbot.connectors.symbols import SymbolMap

__all__ = ["OkxSymbols", "guess_unified", "okx_format", "unified_from_instrument"]

_STABLE_SETTLE = frozenset({"USDT", "USDC"})


def guess_unified(inst_id: str) -> str:
    """Unified symbol of an ``instId`` from its shape alone (no metadata needed)."""
    parts = inst_id.split("-")
    if len(parts) < 2:
        return inst_id
    base, quote = parts[0], parts[1]
    if len(parts) == 2:
        return f"{base}/{quote}"
    settle = quote if quote in _STABLE_SETTLE else base
    if parts[2] == "SWAP":
        return f"{base}/{quote}:{settle}"
    return f"{base}/{quote}:{settle}-{'-'.join(parts[2:])}"


def unified_from_instrument(inst: Mapping[str, Any]) -> str:
    """Unified symbol of one instrument record of ``/api/v5/public/instruments``."""
    inst_id = str(inst["instId"])
    kind = inst.get("instType", "SPOT")
    base = inst.get("baseCcy") or ""
    quote = inst.get("quoteCcy") or ""
    if kind in ("SPOT", "MARGIN") and base and quote:
        return f"{base}/{quote}"
    uly = str(inst.get("uly") or "")
    settle = str(inst.get("settleCcy") or "")
    if "-" in uly and settle:
        base, quote = uly.split("-", 1)
        tail = inst_id[len(uly) + 1 :] if inst_id.startswith(uly + "-") else ""
        if tail == "SWAP" or not tail:
            return f"{base}/{quote}:{settle}"
        return f"{base}/{quote}:{settle}-{tail}"
    return guess_unified(inst_id)


def okx_format(unified: str) -> str:
    """``instId`` of a unified symbol from its shape: ``BTC/USDT`` -> ``BTC-USDT``,
    ``BTC/USDT:USDT`` -> ``BTC-USDT-SWAP``, ``BTC/USD:BTC-220527`` -> ``BTC-USD-220527``."""
    base, _, rest = unified.partition("/")
    quote, _, settle = rest.partition(":")
    if not settle:
        return f"{base}-{quote}"
    if settle in (base, quote):
        return f"{base}-{quote}-SWAP"
    _, _, expiry = settle.partition("-")
    return f"{base}-{quote}-{expiry}"


class OkxSymbols(SymbolMap):
    """The core :class:`~arbot.connectors.symbols.SymbolMap` with OKX's conversions
    (:func:`guess_unified`, :func:`okx_format`)."""

    __slots__ = ()

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(pairs, guess=guess_unified, to_venue_format=okx_format)

    @classmethod
    def from_instruments(cls, body: Mapping[str, Any] | list[Any]) -> OkxSymbols:
        """Build from an instruments response body (``{"code","data":[...]}``) or its data list."""
        data = body.get("data", []) if isinstance(body, Mapping) else body
        return cls((str(i["instId"]), unified_from_instrument(i)) for i in data)
