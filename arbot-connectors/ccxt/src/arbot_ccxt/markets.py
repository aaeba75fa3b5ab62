"""ccxt market structures to :class:`arbot.market.MarketInfo`.

ccxt describes each market with ``precision`` (whose meaning depends on the exchange's
``precisionMode``: a tick size, a number of decimal places, or significant digits), ``limits``
(amount / price / cost minimums) and ``taker`` / ``maker`` fee fractions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from arbot.market import MarketInfo
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE

__all__ = ["increment", "market_info"]


def _num(value: Any) -> float | None:
    """A finite float, or None."""
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def increment(precision: Any, mode: int) -> float:
    """The price or amount increment a ccxt ``precision`` value stands for under ``mode``.

    ``TICK_SIZE``: the value is the increment itself; ``DECIMAL_PLACES``: ``10 ** -value``;
    ``SIGNIFICANT_DIGITS`` has no fixed increment (0.0: no rounding).
    """
    x = _num(precision)
    if x is None or x < 0:
        return 0.0
    if mode == TICK_SIZE:
        return x
    if mode == DECIMAL_PLACES:
        return float(10.0 ** -round(x))
    if mode == SIGNIFICANT_DIGITS:
        return 0.0
    return 0.0


def _limit(limits: Mapping[str, Any], key: str) -> float:
    sub = limits.get(key) or {}
    x = _num(sub.get("min")) if isinstance(sub, Mapping) else None
    return x if x is not None and x > 0 else 0.0


def market_info(
    venue: str,
    market: Mapping[str, Any],
    precision_mode: int,
    default_taker: float = 0.001,
    default_maker: float = 0.001,
) -> MarketInfo:
    """One ccxt market as a :class:`MarketInfo` reported under ``venue``.

    The tick and step come from ``precision`` read under ``precision_mode``; where the mode
    gives no increment (significant digits) the minimum price / amount limit is *not* used as
    a tick (a minimum is not an increment): the tick stays 0 (no rounding). Fees fall back to
    the defaults when ccxt does not know them.
    """
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    taker = _num(market.get("taker"))
    maker = _num(market.get("maker"))
    active = market.get("active")
    return MarketInfo(
        venue=venue,
        symbol=str(market["symbol"]),
        base=str(market.get("base") or ""),
        quote=str(market.get("quote") or ""),
        venue_symbol=str(market.get("id") or ""),
        tick_size=increment(precision.get("price"), precision_mode),
        step_size=increment(precision.get("amount"), precision_mode),
        min_qty=_limit(limits, "amount"),
        min_notional=_limit(limits, "cost"),
        taker_fee=taker if taker is not None else default_taker,
        maker_fee=maker if maker is not None else default_maker,
        active=active is not False,
    )
