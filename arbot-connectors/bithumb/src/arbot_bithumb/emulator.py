"""A Bithumb emulator: the Upbit emulator with Bithumb's differences -- text frames, a
16-digit µs ``timestamp`` sent as a string (as in ccxt's captured message), no
``/v1/orderbook/instruments`` endpoint."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from arbot.testing.emulator import EmulatorServer
from arbot_upbit.emulator import UpbitEmulator
from arbot_upbit.emulator import emulator_settings as _upbit_settings

__all__ = ["BithumbEmulator", "emulator_settings"]


class BithumbEmulator(UpbitEmulator):
    """Bithumb emulator (see the module docstring)."""

    venue = "bithumb"
    binary_frames: ClassVar[bool] = False
    has_instruments: ClassVar[bool] = False

    def stamp(self) -> int | str:
        """µs, as a string."""
        return str(time.time_ns() // 1000)


def emulator_settings(emulator: EmulatorServer, **extra: Any) -> Any:
    """:class:`~arbot_bithumb.connector.BithumbSettings` pointing at ``emulator`` with
    test-sized timers; ``extra`` overrides."""
    from arbot_bithumb.connector import BithumbConnector

    return _upbit_settings(emulator, BithumbConnector, **extra)
