"""REST snapshot acquisition for the venues whose books start from a REST snapshot bridged to
the buffered stream deltas (Binance, KuCoin, Gate.io).

:class:`SnapshotFetcher` is the ``request_snapshot`` callback of
:class:`~arbot.connectors.booksync.BookSync` (:meth:`SnapshotFetcher.want`): one task per
symbol fetches snapshots while one is wanted (``BookSync`` asks again when a snapshot is older
than the buffered deltas), retrying after ``retry_delay`` when a fetch fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import msgspec

from arbot.connectors.rest import RestError

__all__ = ["FETCH_ERRORS", "SnapshotFetcher"]

log = logging.getLogger("arbot.connectors.snapshots")

#: Errors of a failed fetch (logged, then the snapshot is fetched again).
FETCH_ERRORS: tuple[type[Exception], ...] = (RestError, msgspec.DecodeError,
                                             msgspec.ValidationError)


class SnapshotFetcher:
    """Fetches REST snapshots of the symbols wanted, one task per symbol.

    ``fetch(symbol)`` gets one snapshot and applies it (a failure raises one of ``errors``:
    it is logged and the symbol is wanted again after ``retry_delay``). :meth:`want` may be
    called from the event loop at any time; :meth:`close` stops every fetch.
    """

    def __init__(
        self,
        fetch: Callable[[str], Awaitable[None]],
        retry_delay: float,
        *,
        name: str = "snapshot",
        errors: tuple[type[Exception], ...] = FETCH_ERRORS,
    ) -> None:
        self.fetch = fetch
        self.retry_delay = retry_delay
        self.name = name
        self.errors = errors
        self.closed = False
        self.failures = 0
        self._want: set[str] = set()
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def want(self, symbol: str) -> None:
        """A snapshot of ``symbol`` is needed (the ``BookSync`` ``request_snapshot`` hook)."""
        if self.closed:
            return
        self._want.add(symbol)
        task = self._tasks.get(symbol)
        if task is None or task.done():
            self._tasks[symbol] = asyncio.get_running_loop().create_task(
                self._loop(symbol), name=f"{self.name}-snapshot-{symbol}")

    def wanted(self, symbol: str) -> bool:
        """True while a snapshot of ``symbol`` is still to be fetched."""
        return symbol in self._want

    async def _loop(self, symbol: str) -> None:
        first = True
        while symbol in self._want and not self.closed:
            if not first:
                await asyncio.sleep(self.retry_delay)
            first = False
            self._want.discard(symbol)
            try:
                await self.fetch(symbol)
            except self.errors as exc:
                self.failures += 1
                log.warning("%s: snapshot of %s failed: %s", self.name, symbol, exc)
                self._want.add(symbol)

    def open(self) -> None:
        """Accept requests again after :meth:`close`."""
        self.closed = False

    async def close(self) -> None:
        """Stop every fetch."""
        self.closed = True
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self._want.clear()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
