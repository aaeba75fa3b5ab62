"""The pytest plugin arbot-core registers (entry point ``pytest11``): fixtures for plugin tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from arbot.testing.data import shared_data


@pytest.fixture
def arbot_shared_data() -> Callable[[str], Path]:
    """``arbot_shared_data("ws/binance/...")``: a path in the real captured data, or skip/fail."""
    return shared_data


@pytest.fixture(autouse=True)
def _arbot_fresh_rate_limiters() -> None:
    """Every test starts with no process-wide rate limiter: a limiter a test's connector or
    gateway made for a host (with that test's budget) is not shared with the next test."""
    from arbot.connectors.ratelimit import reset_shared_limiters

    reset_shared_limiters()
