"""Prices and sizes at the wire boundary: rounded to the market's tick and step, checked
against its minimums, written as plain decimal strings (never ``1e-05`` or a float repr)."""

from __future__ import annotations

import math
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from arbot.market import MarketInfo

__all__ = [
    "PreparedOrder",
    "decimal_text",
    "increment_text",
    "prepare_order",
    "quote_size_text",
    "to_increment",
]

#: A value within this many increments of a multiple snaps to it (float noise is not a tick).
_SNAP = 1e-9


def decimal_text(value: Decimal) -> str:
    """``value`` as a plain decimal string without exponent or trailing zeros."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def quote_size_text(quantity: str, price: float) -> str:
    """The quote amount of ``quantity`` (a wire decimal) at ``price``, exactly, as a plain decimal
    string: the size of a market buy on venues that size it in quote (Bitget, Gate, Upbit,
    Bithumb)."""
    return decimal_text(Decimal(quantity) * Decimal(repr(price)))


@lru_cache(maxsize=4096)
def _decimals(increment: float) -> int:
    """Digits after the point of ``increment`` read as its shortest decimal (``1e-05`` -> 5)."""
    exponent = Decimal(repr(increment)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@lru_cache(maxsize=4096)
def _format_spec(increment: float) -> str:
    """The :func:`format` spec writing multiples of ``increment`` with its digits (``.2f``)."""
    return f".{_decimals(increment)}f"


def to_increment(value: float, increment: float, *, up: bool = False) -> tuple[int, float]:
    """(n, n * increment): ``value`` rounded down (or ``up``) to a multiple of ``increment``;
    within 1e-9 increments of a multiple it snaps to it."""
    n = _count(value, increment, up)
    return n, n * increment


def _count(value: float, increment: float, up: bool) -> int:
    """How many increments :func:`to_increment` rounds ``value`` to."""
    ticks = value / increment
    if not math.isfinite(ticks):
        raise ValueError(f"not a finite number: {value!r}")
    nearest = round(ticks)
    if abs(ticks - nearest) < _SNAP * max(1.0, abs(ticks)):
        return nearest
    return math.ceil(ticks) if up else math.floor(ticks)


def increment_text(n: int, increment: float) -> str:
    """``n * increment`` as a plain decimal string (exact: written with the increment's digits,
    trailing zeros dropped)."""
    text = format(n * increment, _format_spec(increment))
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def _plain(value: float) -> str:
    text = f"{value:.12f}".rstrip("0").rstrip(".")
    return text or "0"


class PreparedOrder(NamedTuple):
    """An order's size and price as the wire carries them, and why it may not be sent.

    ``problem`` is empty when the order meets the market's minimums; otherwise it says which
    (and the order must not be sent). ``notional`` is size times price (0 without a price).
    """

    quantity: str
    price: str | None
    notional: float
    problem: str = ""


def prepare_order(market: MarketInfo, quantity: float, price: float | None, is_buy: bool) -> PreparedOrder:
    """Round ``quantity`` down to the step and ``price`` to the tick on the passive side
    (a buy never pays more, a sell never gets less, than asked); check min size and notional."""
    step, tick = market.step_size, market.tick_size
    if step > 0:
        nq = _count(quantity, step, False)
        qty, qty_text = nq * step, increment_text(nq, step)
    elif math.isfinite(quantity):
        qty, qty_text = quantity, _plain(quantity)
    else:
        raise ValueError(f"not a finite number: {quantity!r}")
    px: float | None = None
    px_text: str | None = None
    if price is not None:
        if tick > 0:
            npx = _count(price, tick, not is_buy)
            px, px_text = npx * tick, increment_text(npx, tick)
        elif math.isfinite(price):
            px, px_text = price, _plain(price)
        else:
            raise ValueError(f"not a finite number: {price!r}")
    problem = ""
    if qty <= 0:
        problem = f"quantity {quantity!r} rounds to 0 at step {step!r}"
    elif market.min_qty and qty < market.min_qty * (1 - _SNAP):
        problem = f"quantity {qty_text} below the minimum {market.min_qty!r}"
    elif px is not None and px <= 0:
        problem = f"price {price!r} rounds to 0 at tick {tick!r}"
    notional = qty * px if px is not None else 0.0
    if (
        not problem
        and px is not None
        and market.min_notional
        and notional < market.min_notional * (1 - _SNAP)
    ):
        problem = f"notional {_plain(notional)} below the minimum {market.min_notional!r}"
    return PreparedOrder(qty_text, px_text, notional, problem)
