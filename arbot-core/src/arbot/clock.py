"""Clocks: virtual time driven by events in backtests, the wall clock in paper and live mode."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod


class Clock(ABC):
    """Base clock: ``now()`` in float seconds since the epoch."""

    @abstractmethod
    def now(self) -> float:
        """Current time on this clock."""

    def advance(self, ts: float) -> None:  # noqa: B027 - a no-op by default, on purpose
        """Move to ``ts`` (a no-op for the wall clock)."""


class WallClock(Clock):
    """The system clock, for paper and live trading."""

    def now(self) -> float:
        """``time.time()``."""
        return time.time()


class VirtualClock(Clock):
    """A clock that only moves when the engine sees a later event (backtests)."""

    __slots__ = ("_now",)

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        """The time of the latest event processed."""
        return self._now

    def advance(self, ts: float) -> None:
        """Move forward to ``ts``; time never goes back."""
        if ts > self._now:
            self._now = ts
