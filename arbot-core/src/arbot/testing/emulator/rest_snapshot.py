"""An emulator base for venues whose stream sends deltas and whose snapshot comes from REST --
the emulator side of the ``rest_snapshot`` bootstrap
(:class:`~arbot.connectors.bootstrap.RestSnapshot`): Binance, Gate, KuCoin.

:class:`RestSnapshotEmulator` keeps one seeded :class:`ScriptedBook` per market (by venue id,
:meth:`~RestSnapshotEmulator.venue_id`) and its running update id (:attr:`ids`), so a REST
snapshot (:meth:`~RestSnapshotEmulator.snapshot`) carries the id the stream's deltas continue
from; :meth:`~RestSnapshotEmulator.step` moves a book and its id and applies the gap fault (the
delta is lost, the ids jump). A venue subclass writes its messages: the WebSocket protocol, the
REST routes and :meth:`~arbot.testing.emulator.EmulatorServer.tick`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import attrs

from arbot.testing.emulator.scripted import Change, ScriptedBook
from arbot.testing.emulator.server import EmulatorServer

__all__ = ["Delta", "RestSnapshotEmulator", "ScriptOptions"]


class ScriptOptions(TypedDict, total=False):
    """The scripted-book options of :class:`RestSnapshotEmulator` (a venue subclass that adds
    its own keyword arguments passes these on as ``**options``)."""

    seed: int
    tick_interval: float | None
    levels: int
    trade_probability: float


@attrs.frozen
class Delta:
    """One step of a book: its changes and the update ids ``first``..``last`` it covers."""

    bids: list[Change]
    asks: list[Change]
    first: int
    last: int


class RestSnapshotEmulator(EmulatorServer):
    """Scripted books with running update ids (see the module docstring).

    Class attributes set the books' shape: :attr:`mids` (cycled), :attr:`price_tick`,
    :attr:`price_decimals`, :attr:`qty_decimals`, :attr:`first_id` (the id of the first book,
    later ones :attr:`id_stride` apart) and :attr:`seed_stride`.
    """

    mids: tuple[float, ...] = (60000.0, 3000.0, 500.0, 150.0, 1.0)
    price_tick = 0.01
    price_decimals = 2
    qty_decimals = 8
    first_id = 1_000_000
    id_stride = 1_000_000
    seed_stride = 1000

    def __init__(
        self,
        symbols: Sequence[str] = ("BTC/USDT", "ETH/USDT"),
        *,
        seed: int = 0,
        tick_interval: float | None = 0.02,
        levels: int = 30,
        trade_probability: float = 0.3,
    ) -> None:
        super().__init__(tick_interval=tick_interval)
        self.trade_probability = trade_probability
        self.trade_id = 0
        #: the last update id of each book (by venue id)
        self.ids: dict[str, int] = {}
        for i, sym in enumerate(symbols):
            vid = self.venue_id(sym)
            self.venue_ids[sym] = vid
            self.books[vid] = ScriptedBook(
                self.venue, sym, seed=seed * self.seed_stride + i, mid=self.mids[i % len(self.mids)],
                tick=self.price_tick, levels=levels, price_decimals=self.price_decimals,
                qty_decimals=self.qty_decimals)
            self.ids[vid] = self.first_id + self.id_stride * i

    @staticmethod
    def venue_id(symbol: str) -> str:
        """The venue's id of a unified symbol (default ``BTCUSDT``)."""
        return symbol.replace("/", "")

    def base_quote(self, vid: str) -> tuple[str, str]:
        """``(base, quote)`` of a venue id."""
        base, _, quote = self.books[vid].symbol.partition("/")
        return base, quote



    def step(self, vid: str, ids: int | None = None) -> Delta | None:
        """Move one book; its id advances by ``ids`` (default: one per change). None when the
        gap fault swallowed the delta (a connector must notice the hole in the ids)."""
        book = self.books[vid]
        gap = self.take_gap(book.symbol)
        bids, asks = book.step(remove_best=gap)
        n = ids if ids is not None else len(bids) + len(asks)
        if n <= 0:
            return None
        first = self.ids[vid] + 1
        self.ids[vid] += n
        return None if gap else Delta(bids, asks, first, self.ids[vid])

    def snapshot(self, vid: str, depth: int | None = None) -> tuple[int, list[Change], list[Change]]:
        """``(id, bids, asks)`` of a REST snapshot (the best ``depth`` levels, as text)."""
        bids, asks = self.books[vid].levels_text(depth)
        return self.ids[vid], bids, asks

    def maybe_trade(self, vid: str) -> tuple[str, str, bool] | None:
        """With probability ``trade_probability``, a trade at the touch (price, size, buyer is
        maker); its id is then :attr:`trade_id`."""
        book = self.books[vid]
        if book.rng.random() >= self.trade_probability:
            return None
        self.trade_id += 1
        return book.trade()
