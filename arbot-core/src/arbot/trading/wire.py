"""Exact decimal strings for the wire: prices and sizes rounded to the market's tick and step.

Prices and sizes are floats in the engine. At the venue boundary they are rounded to the
market's tick (price) and step (size) and written as plain decimal strings — never ``1e-05``,
never a float ``repr`` such as ``0.30000000000000004``. :func:`to_step` rounds with
:class:`decimal.Decimal` arithmetic on the step's own exponent.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal

from arbot.trading.errors import OrderRejected

__all__ = ["check_minimums", "decimal_text", "to_step"]

_ROUNDING = {"down": ROUND_DOWN, "up": ROUND_UP, "nearest": ROUND_HALF_EVEN}


def decimal_text(value: Decimal) -> str:
    """``value`` as a plain decimal string without exponent or trailing zeros (``0.00001``)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def to_step(value: float, step: float, rounding: str = "down") -> str:
    """``value`` rounded to a multiple of ``step`` (``down``/``up``/``nearest``), as text.

    ``step`` is taken through ``repr`` (``0.1`` is exactly one tenth here, not the binary
    float), so the result carries exactly the step's decimals.
    """
    if step <= 0:
        raise ValueError(f"step must be positive, got {step!r}")
    d_step = Decimal(repr(step))
    d_value = Decimal(repr(value))
    units = (d_value / d_step).quantize(Decimal(1), rounding=_ROUNDING[rounding])
    return decimal_text(units * d_step)


def check_minimums(
    venue: str, symbol: str, quantity: str, price: str | None, min_qty: float, min_notional: float
) -> None:
    """Raise :class:`OrderRejected` (before sending) when the rounded ``quantity`` or its
    notional (``quantity * price``) is under the market's minimum."""
    q = Decimal(quantity)
    if q <= 0 or q < Decimal(repr(min_qty)):
        raise OrderRejected(venue, f"{symbol}: quantity {quantity} is under the minimum {min_qty}",
                            "min_quantity")
    if price is not None and min_notional > 0 and q * Decimal(price) < Decimal(repr(min_notional)):
        raise OrderRejected(
            venue, f"{symbol}: notional {decimal_text(q * Decimal(price))} is under the minimum "
            f"{min_notional}", "min_notional")
