"""Three venue emulators (Binance, OKX, Bybit) running in the test's own process, each with one
funded account, and the configuration overrides / environment that point ``arbot run`` at them
(``emulate = false``: the bot connects to them as to real venues, keys from the environment)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from arbot.components import Connector
from arbot.testing.emulator import EmulatorServer
from arbot_binance.connector import BinanceConnector
from arbot_bybit.connector import BybitConnector
from arbot_okx.connector import OkxConnector

CONNECTORS: dict[str, type[Connector]] = {
    "binance": BinanceConnector,
    "okx": OkxConnector,
    "bybit": BybitConnector,
}
FUNDS = {"USDT": 100_000.0, "BTC": 2.0}


def live_env(**extra: str) -> dict[str, str]:
    """This process's environment without any venue key, with ARBOT_LIVE_TRADING=1 and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_SECRET", "_PASSPHRASE"))}
    env["ARBOT_LIVE_TRADING"] = "1"
    env.update(extra)
    return env


class Venues:
    """The three emulators, BTC/USDT around 60 000 with now-and-then dislocations."""

    def __init__(self, seed: int = 3) -> None:
        self.emulators: dict[str, EmulatorServer] = {}
        self.keys: dict[str, tuple[str, str, str | None]] = {}
        for i, (venue, cls) in enumerate(CONNECTORS.items()):
            emu = cls.emulator(["BTC/USDT"], seed=seed + i)
            for book in emu.scripted_books():
                book.recenter(60_000.0)
                book.configure_dislocations(0.01, (0.3, 1.0), (50, 250))
            self.emulators[venue] = emu

    async def start(self) -> None:
        """Start the emulators and open one funded account on each."""
        for venue, emu in self.emulators.items():
            await emu.start()
            creds = CONNECTORS[venue].emulated_account(emu, FUNDS)
            self.keys[venue] = (creds.api_key, creds._secret, creds.passphrase_value() or None)

    async def stop(self) -> None:
        """Stop the emulators."""
        for emu in self.emulators.values():
            await emu.stop()

    def env(self) -> dict[str, str]:
        """The environment of a live bot trading on these accounts (keys as TRD §7 names them)."""
        extra = {}
        for venue, (key, secret, passphrase) in self.keys.items():
            extra[f"{venue.upper()}_API_KEY"] = key
            extra[f"{venue.upper()}_API_SECRET"] = secret
            if passphrase:
                extra[f"{venue.upper()}_PASSPHRASE"] = passphrase
        return live_env(**extra)

    def overrides(self) -> Iterator[str]:
        """``--set`` overrides: no built-in emulation, each connector pointed at its emulator."""
        yield "source.live.emulate=false"
        for venue, emu in self.emulators.items():
            for key, url in CONNECTORS[venue].emulated_settings(emu).items():
                yield f"connectors.{venue}.{key}={url}"

    def orders(self, venue: str) -> list[object]:
        """Ground truth: every order the account placed on ``venue``."""
        exchange = self.emulators[venue].private.exchange  # type: ignore[attr-defined]
        key = self.keys[venue][0]
        return [o for o in exchange.orders.values() if o.api_key == key]

    def open_orders(self) -> dict[str, int]:
        """Ground truth: open orders per venue."""
        return {
            v: sum(1 for o in self.orders(v) if not o.status.is_terminal)  # type: ignore[attr-defined]
            for v in self.emulators
        }
