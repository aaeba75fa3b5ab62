"""Scaffolding shared by the native connectors: event emission, the stale-book watcher,
stopping background tasks, the common ``stats()`` counters, and the ``emulator()`` /
``replay_decoder()`` classmethods from class attributes.

:class:`ScaffoldConnector` is a :class:`~arbot.components.Connector` base; a subclass sets
``self.ws`` (:class:`~arbot.connectors.ws.WsSession`), ``self.sync``
(:class:`~arbot.connectors.booksync.BookSync`), ``self.rest``
(:class:`~arbot.connectors.rest.RestClient`) and ``self._closed`` in its ``__init__``, and the
class attributes :attr:`~ScaffoldConnector.emulator_class` and
:attr:`~ScaffoldConnector.replay_class`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from arbot.components import Connector, MarketEvent, ReplayDecoder, S
from arbot.connectors.booksync import BookSync
from arbot.connectors.rest import RestClient
from arbot.connectors.symbols import SymbolMap
from arbot.connectors.ws import WsSession
from arbot.errors import ArbotError
from arbot.market import MarketInfo

if TYPE_CHECKING:
    from arbot.testing.emulator import EmulatorServer

__all__ = ["ScaffoldConnector", "stop_tasks"]


async def stop_tasks(tasks: Iterable[asyncio.Task[None] | None]) -> None:
    """Cancel ``tasks`` (None entries skipped) and wait for them, ignoring their errors."""
    pending = [t for t in tasks if t is not None]
    for t in pending:
        t.cancel()
    for t in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await t


class ScaffoldConnector(Connector[S]):
    """A connector base with the scaffolding every native connector repeats (see the module
    docstring)."""

    #: ``"module:Class"`` of the venue's emulator (imported on demand: it is test tooling).
    emulator_class: ClassVar[str]
    #: The venue's replay decoder (a class or factory without arguments).
    replay_class: ClassVar[Callable[[], ReplayDecoder]]

    ws: WsSession
    sync: BookSync
    rest: RestClient
    _closed: bool
    _stale_task: asyncio.Task[None] | None = None
    #: unified symbols the venue's metadata listed, and whether it was loaded (set in __init__)
    _known: set[str]
    _markets_loaded: bool

    def register_markets(self, infos: list[MarketInfo], symbols: SymbolMap) -> list[MarketInfo]:
        """Add loaded markets to the bot's market state and ``symbols``; remember them."""
        for info in infos:
            self.ctx.market.add_market(info)
            symbols.add(info.venue_symbol, info.symbol)
            self._known.add(info.symbol)
        self._markets_loaded = True
        return infos

    def listed_venue_symbol(self, symbol: str, symbols: SymbolMap, source: str) -> str:
        """The venue id of a symbol the metadata (``source``) listed; a clear error otherwise."""
        if symbol not in self._known:
            raise ArbotError(f"{self.name}: unknown symbol {symbol!r} (not in {source})")
        return symbols.to_venue(symbol)

    def _emit(self, ev: MarketEvent) -> None:
        cb = self.on_event
        if cb is not None:
            cb(ev)

    async def _watch_stale(self, max_age: float) -> None:
        every = min(1.0, max_age / 2)
        while not self._closed:
            await asyncio.sleep(every)
            self.sync.check_stale(time.time(), max_age)

    def start_stale_watch(self, max_age: float | None) -> None:
        """Mark books stale after ``max_age`` seconds without a message (None: never); one
        watcher per connector, stopped by :meth:`stop_stale_watch`."""
        if max_age is None or (self._stale_task is not None and not self._stale_task.done()):
            return
        self._stale_task = asyncio.get_running_loop().create_task(self._watch_stale(max_age))

    async def stop_stale_watch(self) -> None:
        """Stop the stale-book watcher."""
        task, self._stale_task = self._stale_task, None
        await stop_tasks([task])

    def resync(self, symbol: str) -> None:
        """Drop the book of ``symbol`` and rebuild it (the other books are not touched)."""
        self.sync.resync(symbol, "requested")

    def base_stats(self) -> dict[str, int]:
        """Counters of the connection, the book synchronisation (with ``resyncs:<symbol>``)
        and REST (``rest_*``)."""
        st = self.sync.stats
        out = {**self.ws.stats.as_dict(), **st.as_dict()}
        out.update((f"resyncs:{k}", v) for k, v in st.resyncs_by_symbol.items())
        out.update((f"rest_{k}", v) for k, v in self.rest.stats.as_dict().items())
        return out

    @classmethod
    def emulator(cls, symbols: Sequence[str], seed: int = 0) -> EmulatorServer:
        """The venue's emulator quoting ``symbols`` (scripted random walks)."""
        module, _, name = cls.emulator_class.partition(":")
        server: EmulatorServer = getattr(importlib.import_module(module), name)(symbols, seed=seed)
        return server

    @classmethod
    def replay_decoder(cls) -> ReplayDecoder:
        """A decoder replaying the venue's captures with the same synchronisation rules."""
        return cls.replay_class()
