"""Helpers of the gateways' wallet calls (withdrawals and deposits)."""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal, localcontext

__all__ = ["amount_text"]

_EIGHT = Decimal("0.00000001")
#: Digits of the largest float (about 1.8e308) at 8 decimals.
_DIGITS = 330


def amount_text(amount: float) -> str:
    """A withdrawal amount as a plain decimal string, rounded down to 8 places (never more than
    asked, never ``1e-05``)."""
    if not math.isfinite(amount):
        raise ValueError(f"a withdrawal amount must be a finite number, got {amount!r}")
    if amount <= 0:
        raise ValueError(f"a withdrawal amount must be positive, got {amount!r}")
    with localcontext(prec=_DIGITS):  # the default 28 digits cannot hold 1e30 at 8 decimals
        value = Decimal(repr(amount)).quantize(_EIGHT, rounding=ROUND_DOWN)
    if value <= 0:
        raise ValueError(f"a withdrawal amount of {amount!r} rounds to 0 at 8 decimals (not positive)")
    return format(value.normalize(), "f")
