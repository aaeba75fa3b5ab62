"""Prices and sizes at the wire boundary: rounded to the market's tick and step, checked
against its minimums, written as plain decimal strings (never ``1e-05`` or a float repr)."""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import attrs

from arbot.market import MarketInfo

__all__ = ["PreparedOrder", "decimal_text", "prepare_order", "to_increment"]

_EPS = Decimal("1e-9")


def decimal_text(value: Decimal) -> str:
    """``value`` as a plain decimal string without exponent or trailing zeros."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def to_increment(value: float, increment: float, *, up: bool = False) -> Decimal:
    """``value`` rounded down (or ``up``) to a multiple of ``increment`` (a float from the
    venue's metadata, read as its shortest decimal: ``1e-05`` -> ``0.00001``). A value within
    1e-9 increments of a multiple snaps to it (float noise is not a tick)."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    d = Decimal(repr(value))
    if increment <= 0:
        return d
    inc = Decimal(repr(increment))
    ticks = d / inc
    nearest = ticks.to_integral_value()
    if abs(ticks - nearest) < _EPS:
        n = nearest
    else:
        n = ticks.to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return n * inc


@attrs.frozen(slots=True)
class PreparedOrder:
    """An order's size and price as the wire carries them, and why it may not be sent.

    ``problem`` is empty when the order meets the market's minimums; otherwise it says which
    (and the order must not be sent).
    """

    quantity: str
    price: str | None
    notional: Decimal
    problem: str = ""


def prepare_order(market: MarketInfo, quantity: float, price: float | None, is_buy: bool) -> PreparedOrder:
    """Round ``quantity`` down to the step and ``price`` to the tick on the passive side
    (a buy never pays more, a sell never gets less, than asked); check min size and notional."""
    qty = to_increment(quantity, market.step_size)
    px = to_increment(price, market.tick_size, up=not is_buy) if price is not None else None
    problem = ""
    if qty <= 0:
        problem = f"quantity {quantity!r} rounds to 0 at step {market.step_size!r}"
    elif market.min_qty and qty < Decimal(repr(market.min_qty)):
        problem = f"quantity {decimal_text(qty)} below the minimum {market.min_qty!r}"
    elif px is not None and px <= 0:
        problem = f"price {price!r} rounds to 0 at tick {market.tick_size!r}"
    notional = qty * px if px is not None else Decimal(0)
    if (
        not problem
        and px is not None
        and market.min_notional
        and notional < Decimal(repr(market.min_notional))
    ):
        problem = f"notional {decimal_text(notional)} below the minimum {market.min_notional!r}"
    return PreparedOrder(decimal_text(qty), decimal_text(px) if px is not None else None, notional, problem)
