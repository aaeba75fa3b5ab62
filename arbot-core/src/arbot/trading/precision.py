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


class _Grid:
    """The multiples of one increment: how many of them a value rounds to, and the exact decimal
    text of a multiple (from integers: ``n`` increments of ``units`` x 10^-``places``)."""

    __slots__ = ("_pattern", "_scale", "increment", "places", "units")

    def __init__(self, increment: float) -> None:
        exact = Decimal(repr(increment)).normalize()
        exponent = exact.as_tuple().exponent
        self.increment = increment
        self.places = max(0, -exponent) if isinstance(exponent, int) else 0
        self.units = int(exact.scaleb(self.places))
        self._scale = 10**self.places
        self._pattern = f"%d.%0{self.places}d"

    def count(self, value: float, up: bool) -> int:
        """``value`` in increments, rounded down (or ``up``); within 1e-9 increments of a
        multiple it snaps to it."""
        ticks = value / self.increment
        try:
            nearest = round(ticks)
        except (OverflowError, ValueError):
            raise ValueError(f"not a finite number: {value!r}") from None
        tolerance = _SNAP * ticks if ticks > 1.0 else -_SNAP * ticks if ticks < -1.0 else _SNAP
        if -tolerance < ticks - nearest < tolerance:
            return nearest
        return math.ceil(ticks) if up else math.floor(ticks)

    def text(self, n: int) -> str:
        """``n`` increments as a plain decimal string, trailing zeros dropped."""
        v = n * self.units
        if v < 0:
            return "-" + self.text(-n)
        whole, fraction = divmod(v, self._scale)
        return (self._pattern % (whole, fraction)).rstrip("0") if fraction else str(whole)


@lru_cache(maxsize=4096)
def _grid(increment: float) -> _Grid:
    return _Grid(increment)


def to_increment(value: float, increment: float, *, up: bool = False) -> tuple[int, float]:
    """(n, n * increment): ``value`` rounded down (or ``up``) to a multiple of ``increment``;
    within 1e-9 increments of a multiple it snaps to it."""
    n = _grid(increment).count(value, up)
    return n, n * increment


def increment_text(n: int, increment: float) -> str:
    """``n * increment`` as a plain decimal string (exact: written with the increment's digits,
    trailing zeros dropped)."""
    return _grid(increment).text(n)


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
        grid = _grid(step)
        nq = grid.count(quantity, False)
        qty, qty_text = nq * step, grid.text(nq)
    elif math.isfinite(quantity):
        qty, qty_text = quantity, _plain(quantity)
    else:
        raise ValueError(f"not a finite number: {quantity!r}")
    px: float | None = None
    px_text: str | None = None
    if price is not None:
        if tick > 0:
            grid = _grid(tick)
            npx = grid.count(price, not is_buy)
            px, px_text = npx * tick, grid.text(npx)
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
