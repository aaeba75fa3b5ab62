"""Withdrawal amounts on the wire: plain decimals, never more than asked, never zero."""

from __future__ import annotations

import pytest
from arbot.trading.wallet import amount_text


@pytest.mark.parametrize(
    ("amount", "text"),
    [(4000.0, "4000"), (1e-05, "0.00001"), (0.123456789, "0.12345678"), (3999.9999999999, "3999.99999999")],
)
def test_amounts_are_plain_decimals_rounded_down(amount: float, text: str) -> None:
    assert amount_text(amount) == text


@pytest.mark.parametrize("amount", [0.0, -1.0, 1e-09])
def test_a_non_positive_amount_is_refused(amount: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        amount_text(amount)


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_amount_is_a_clear_value_error(amount: float) -> None:
    with pytest.raises(ValueError, match="must be a finite number"):
        amount_text(amount)


def test_a_huge_amount_is_written_exactly_not_a_decimal_error() -> None:
    assert amount_text(1e30) == "1" + "0" * 30  # the venue refuses it by balance, with its own answer
    assert amount_text(1.7976931348623157e308).startswith("17976931348623157")
