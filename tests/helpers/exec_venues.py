"""Emulated Binance venues over loopback for the execution tests, with the production stack.

Each venue is a :class:`BinanceEmulator` (accounts, matching engine, fault injection) reached
through :class:`BinanceTradingGateway` over real sockets; :class:`Renamed` gives every emulator
its own venue name. :class:`Venues` holds the order manager, leg-risk machine, write-ahead
SQLite journal and kill switch exactly as live mode builds them, and reads the emulators'
accounts as the ground truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from pathlib import Path

import aiohttp
from arbot.events import Leg, Opportunity, Side
from arbot.execution.journal import SqliteJournal, replay_positions
from arbot.execution.killswitch import KillSwitch
from arbot.execution.legs import LegPolicy, LegRiskMachine
from arbot.execution.orders import OrderManager, OrderPolicy
from arbot.execution.runtime import AsyncioRuntime
from arbot.market import MarketState
from arbot.testing.execution import Renamed
from arbot.trading import TradingGateway
from arbot.trading.signing import ApiCredentials
from arbot_binance.emulator import BinanceEmulator
from arbot_binance.trading import BinanceTradingGateway

SYMBOL = "BTC/USDT"
START = {"USDT": "1000000", "BTC": "2"}
SEEDS = {"a": 5, "b": 9, "c": 13}


class Venues:
    """Started emulators with funded accounts, their gateways and the execution stack."""

    def __init__(
        self,
        emus: dict[str, BinanceEmulator],
        gws: dict[str, TradingGateway],
        keys: dict[str, str],
        path: Path,
        policy: LegPolicy | None = None,
        order_policy: OrderPolicy | None = None,
    ) -> None:
        self.emus, self.gws, self.keys, self.path = emus, gws, keys, path
        self.policy = policy or LegPolicy(retry_attempts=1, unknown_wait_s=3.0)
        self.order_policy = order_policy
        self.rt = AsyncioRuntime(time.time)
        self.market = MarketState()
        self.followers: list[asyncio.Task[None]] = []
        self.open_stack()

    def open_stack(self) -> None:
        """(Re)build the stack on the journal file: what a restarted process does."""
        self.journal = SqliteJournal(self.path)
        self.events: list[object] = []
        self.manager = OrderManager(
            self.gws, self.journal, self.rt, self.order_policy, listener=self.events.append
        )
        self.kill = KillSwitch(self.journal, self.rt, self.events.append)
        self.machine = LegRiskMachine(
            self.manager,
            self.journal,
            self.rt,
            self.market,
            self.kill,
            self.policy,
            self.events.append,
            lambda v, s: 0.001,
        )

    def follow(self) -> None:
        """Merge every venue's private stream into the order manager (as the live executor does)."""
        self.followers = [asyncio.ensure_future(self.manager.follow(v)) for v in self.gws]

    async def stop_following(self) -> None:
        """Cancel the stream followers."""
        for t in self.followers:
            t.cancel()
        for t in self.followers:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self.followers = []

    def ex(self, venue: str):  # the emulator's exchange core (ground truth)
        return self.emus[venue].private.exchange

    def best(self, venue: str) -> tuple[float, float]:
        book = self.emus[venue].true_book(SYMBOL)
        return book.best_bid, book.best_ask

    async def load_book(self, venue: str) -> None:
        """Fill the bot's market state for ``venue`` from the emulator's REST depth (a socket)."""
        emu = self.emus[venue]
        async with (
            aiohttp.ClientSession() as s,
            s.get(f"{emu.http_url}/api/v3/depth", params={"symbol": "BTCUSDT", "limit": "20"}) as r,
        ):
            body = await r.json()
        bids = [(float(p), float(q)) for p, q in body["bids"]]
        asks = [(float(p), float(q)) for p, q in body["asks"]]
        self.market.book(venue, SYMBOL).apply_snapshot(bids, asks, time.time())

    def truth(self) -> dict[tuple[str, str], float]:
        """Every account's balance change since it was funded, from the emulators' books."""
        out = {}
        for v in self.emus:
            for asset, (free, locked) in self.ex(v).balances(self.keys[v]).items():
                d = float(free + locked - Decimal(START.get(asset, "0")))
                if abs(d) > 1e-12:
                    out[(v, asset)] = d
        return out

    def venue_orders(self, venue: str) -> list[object]:
        """Ground truth: every order the account placed on ``venue``."""
        return [o for o in self.ex(venue).orders.values() if o.api_key == self.keys[venue]]

    def opportunity(self, oid: str, qty: float = 0.01, buy: str = "a", sell: str = "b") -> Opportunity:
        _, ask_a = self.best(buy)
        bid_b, _ = self.best(sell)
        legs = (Leg(buy, SYMBOL, Side.BUY, ask_a, qty), Leg(sell, SYMBOL, Side.SELL, bid_b, qty))
        return Opportunity(oid, time.time(), "spatial", SYMBOL, legs, 0.0, 0.0, 0.0)

    def journal_matches_truth(self) -> None:
        """Replaying the journal's fills gives exactly the emulators' balance changes."""
        got = replay_positions(self.journal.fills())
        truth = self.truth()
        keys = {k for k, q in got.items() if abs(q) > 1e-9} | {k for k, q in truth.items() if abs(q) > 1e-9}
        for k in keys:
            assert abs(got.get(k, 0.0) - truth.get(k, 0.0)) <= 1e-8, (k, got, truth)


def run_venues(
    main: Callable[[Venues], Awaitable[None]],
    tmp_path: Path,
    timeout: float = 60.0,
    names: Sequence[str] = ("a", "b"),
    policy: LegPolicy | None = None,
    order_policy: OrderPolicy | None = None,
    recenter: float | None = None,
) -> None:
    """Start one Binance emulator per name (static books), fund an account on each, run ``main``."""

    async def go() -> None:
        async with contextlib.AsyncExitStack() as stack:
            emus: dict[str, BinanceEmulator] = {}
            for name in names:
                emu = BinanceEmulator((SYMBOL,), seed=SEEDS.get(name, 17), tick_interval=None)
                if recenter is not None:
                    for book in emu.scripted_books():
                        book.recenter(recenter)
                emus[name] = await stack.enter_async_context(emu)
            gws: dict[str, TradingGateway] = {}
            keys = {}
            for v, emu in emus.items():
                acct = emu.private.create_account(dict(START))
                keys[v] = acct.api_key
                inner = BinanceTradingGateway(
                    ApiCredentials(acct.api_key, secret=acct.secret),
                    rest_url=emu.http_url,
                    ws_url=emu.ws_url,
                    timeout=3.0,
                )
                gw = Renamed(inner, v)
                await gw.start()
                gws[v] = gw
            venues = Venues(emus, gws, keys, tmp_path / "execution.sqlite", policy, order_policy)
            try:
                await main(venues)
            finally:
                await venues.stop_following()
                for gw in gws.values():
                    await gw.close()
                venues.journal.close()

    asyncio.run(asyncio.wait_for(go(), timeout))
