"""A Bithumb emulator: the core full-book emulator
(:class:`~arbot.testing.emulator.FullBookEmulator`) with Bithumb's differences -- text frames,
a 16-digit µs ``timestamp`` sent as a string (as in ccxt's captured message), and no
``/v1/orderbook/instruments`` endpoint (the base serves none)."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from arbot.testing.emulator import EmulatorServer, FullBookEmulator, fast_settings

__all__ = ["BithumbEmulator", "emulator_settings"]


class BithumbEmulator(FullBookEmulator):
    """Bithumb emulator (see the module docstring)."""

    venue = "bithumb"
    binary_frames: ClassVar[bool] = False

    def stamp(self) -> int | str:
        """µs, as a string."""
        return str(time.time_ns() // 1000)


def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_bithumb.connector.BithumbSettings` pointing at ``emulator`` with
    test-sized timers; ``extra`` overrides."""
    from arbot_bithumb.connector import BithumbConnector

    return fast_settings(BithumbConnector, emulator, **extra)
