"""Helpers of the gateways' wallet calls (withdrawals and deposits)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

__all__ = ["amount_text"]

_EIGHT = Decimal("0.00000001")


def amount_text(amount: float) -> str:
    """A withdrawal amount as a plain decimal string, rounded down to 8 places (never more than
    asked, never ``1e-05``)."""
    if amount <= 0:
        raise ValueError(f"a withdrawal amount must be positive, got {amount!r}")
    value = Decimal(repr(amount)).quantize(_EIGHT, rounding=ROUND_DOWN)
    if value <= 0:
        raise ValueError(f"a withdrawal amount of {amount!r} rounds to 0 at 8 decimals (not positive)")
    return format(value.normalize(), "f")
