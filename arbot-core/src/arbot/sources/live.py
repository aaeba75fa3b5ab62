"""The live source: the configured venues' connectors, streaming on the wall clock.

For every venue in ``[exchanges] enabled`` it builds the connector registered under that name,
or the one ``[connectors.<venue>] connector`` names (``connector = "ccxt"`` with
``exchange_id = "kraken"`` runs Kraken through ccxt), with the rest of ``[connectors.<venue>]``
as its settings; loads market metadata, connects and subscribes to books and trades. With
``emulate = true`` each venue's own emulator is started on loopback first and the connector is
pointed at it: the same bot runs offline. Book events arrive already applied to the bot's books
by the connector's book sync.

Hand-off: a connector's ``on_event`` appends the event to one buffer (a deque) and wakes the
consumer only when it is waiting; :meth:`LiveSource.aevents` then yields every buffered event
in a row (all the events of one socket read, typically) without going back to the event loop,
and :meth:`LiveSource.buffered` lets the bot take them without racing its stop signal.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from arbot.components import BotContext, Connector, MarketEvent, Source
from arbot.config import ComponentSettings, validate_settings
from arbot.errors import ConfigError
from arbot.trading.credentials import split_credentials

if TYPE_CHECKING:
    from arbot.testing.emulator import EmulatorServer

__all__ = ["LiveSource", "LiveSourceSettings"]


class LiveSourceSettings(ComponentSettings):
    """Settings of the live source (``[source.live]``)."""

    emulate: bool = Field(False, description="run every venue against its local emulator")
    emulator_seed: int = Field(
        0,
        description="seed of the first emulator's random walk (the others take the next seeds)",
    )
    emulator_dislocation_probability: float = Field(
        0.0, ge=0, le=1, description="per emulator step: shift a venue's whole book for a while"
    )
    emulator_dislocation_pct: tuple[float, float] = Field(
        (0.3, 1.0),
        description="range of an emulated dislocation's shift, in percent",
    )
    emulator_dislocation_steps: tuple[int, int] = Field((50, 250), description="how long, in emulator steps")
    emulator_prices: dict[str, float] = Field(
        default_factory=dict, description="start mid of an emulated symbol, e.g. {'BTC/KRW' = 83400000}"
    )
    emulator_premium_pct: dict[str, float] = Field(
        default_factory=dict,
        description="a venue's emulated quotes sit this much above emulator_prices "
        "(crypto markets only: a stablecoin's own market keeps its price), e.g. {upbit = 1.5}",
    )
    depth: int = Field(20, ge=1, description="book depth to subscribe to where the venue asks")
    trades: bool = Field(True, description="subscribe to public trades as well as books")
    venue_symbols: dict[str, list[str]] = Field(
        default_factory=dict, description="symbols per venue (default: the configured symbols)"
    )


class LiveSource(Source[LiveSourceSettings]):
    """Market data from live connectors (or their emulators), for paper and live runs."""

    name: ClassVar[str] = "live"
    Settings: ClassVar[type[ComponentSettings]] = LiveSourceSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        if ctx.host is None:
            raise ConfigError("the live source needs the plugin registry to find connectors")
        self._classes: dict[str, type[Connector]] = {}
        for venue in ctx.config.exchanges.enabled:
            name = ctx.config.connectors.get(venue, {}).get("connector", venue)
            cls = ctx.host.resolve("connector", name)
            assert issubclass(cls, Connector)
            self._classes[venue] = cls
        self.connectors: dict[str, Connector] = {}
        self.emulators: dict[str, EmulatorServer] = {}
        #: The most events ever waiting in the buffer at once.
        self.queue_high_water = 0
        self._pending: deque[MarketEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def symbols_for(self, venue: str) -> list[str]:
        """Symbols subscribed on ``venue``."""
        return list(self.settings.venue_symbols.get(venue, self.ctx.config.symbols))

    def events(self) -> Iterator[MarketEvent]:
        """Not available: live data runs on the wall clock."""
        raise ConfigError(
            "source 'live' streams in real time: use `arbot run` (paper or live), or `arbot record` "
            "to write Parquet that a backtest replays with source 'replay'"
        )

    def _push(self, ev: MarketEvent) -> None:
        """A connector's event: buffer it; wake the consumer if it waits."""
        self._pending.append(ev)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def buffered(self) -> int:
        """Events received and not yet taken (:meth:`aevents` yields them without waiting)."""
        return len(self._pending)

    async def _open(self) -> None:
        cfg = self.ctx.config
        for i, (venue, cls) in enumerate(self._classes.items()):
            symbols = self.symbols_for(venue)
            raw, keys = split_credentials(cfg.connectors.get(venue, {}))  # keys go to the trading gateway
            raw.update({k: v for k, v in keys.items() if k in cls.Settings.model_fields})  # e.g. ccxt
            raw.pop("connector", None)
            if "venue" in cls.Settings.model_fields:
                raw.setdefault("venue", venue)  # one generic connector class, several venues
            if self.settings.emulate:
                emulator = cls.emulator(symbols, seed=self.settings.emulator_seed + i)
                self._place_prices(venue, emulator)
                if self.settings.emulator_dislocation_probability > 0.0:
                    for book in emulator.scripted_books():
                        book.configure_dislocations(
                            self.settings.emulator_dislocation_probability,
                            self.settings.emulator_dislocation_pct,
                            self.settings.emulator_dislocation_steps,
                        )
                await emulator.start()
                self.emulators[venue] = emulator
                raw.update(cls.emulated_settings(emulator))
            settings = validate_settings(cls.Settings, raw, f"connectors.{venue}", cfg.source_file)
            conn = cls(settings, self.ctx, self._push)
            self.connectors[venue] = conn
            for info in await conn.load_markets():
                self.ctx.market.add_market(info)
            await conn.connect()
            await conn.subscribe_orderbook(symbols, self.settings.depth)
            if self.settings.trades:
                await conn.subscribe_trades(symbols)

    def _place_prices(self, venue: str, emulator: EmulatorServer) -> None:
        """Move the emulator's books to the configured prices and the venue's premium."""
        prices = self.settings.emulator_prices
        premium = self.settings.emulator_premium_pct.get(venue, 0.0) / 100.0
        stable = set(self.ctx.config.portfolio.usd_assets)
        for book in emulator.scripted_books():
            mid = prices.get(book.symbol)
            if mid is None:
                continue
            if book.symbol.partition("/")[0] not in stable:
                mid *= 1.0 + premium
            book.recenter(mid)

    async def aclose(self) -> None:
        """Close every connector, then stop the emulators."""
        for conn in self.connectors.values():
            try:
                await conn.close()
            except Exception as exc:  # closing must not hide the other closes
                self.ctx.counters[f"connector_close_errors:{conn.name}"] += 1
                self.ctx.counters[f"last_close_error:{type(exc).__name__}"] += 1
        for emulator in self.emulators.values():
            await emulator.stop()

    async def aevents(self) -> AsyncIterator[MarketEvent]:
        """Events from every connector, in arrival order (see the module docstring)."""
        pending = self._pending
        try:
            await self._open()
            loop = asyncio.get_running_loop()
            while True:
                if not pending:
                    waiter = self._waiter = loop.create_future()
                    await waiter
                    continue
                size = len(pending)
                if size > self.queue_high_water:
                    self.queue_high_water = size
                while pending:
                    yield pending.popleft()
        finally:
            self._waiter = None
            await self.aclose()

    def stats(self) -> dict[str, dict[str, int]]:
        """Each connector's counters."""
        return {venue: conn.stats() for venue, conn in self.connectors.items()}
