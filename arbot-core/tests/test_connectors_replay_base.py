"""Core handler-neutral replay base (``arbot.connectors.replay.HandlerReplayDecoder``): the
event buffer, ``messages``/``ignored`` and the counters taken from the handler's BookSync."""

from __future__ import annotations

from typing import Any

from arbot.components import MarketEvent
from arbot.connectors.booksync import BookSync, NoSequenceRule
from arbot.connectors.replay import HandlerReplayDecoder
from arbot.connectors.symbols import SymbolMap
from arbot.market import MarketState


class _Handler:
    """Minimal handler: each record ``(symbol, bids, asks)`` is a full book."""

    def __init__(self, market: MarketState, emit: Any) -> None:
        self.symbols = SymbolMap()
        self.sync = BookSync("v", market, NoSequenceRule(), emit=emit)

    def records(self, records: list[Any], ts: float) -> None:
        for sym, bids, asks in records:
            self.sync.on_snapshot(sym, 0, bids, asks, ts)


class _Decoder(HandlerReplayDecoder):
    @staticmethod
    def parse(msg: Any) -> list[Any] | None:
        return msg.get("books") if isinstance(msg, dict) else None

    def __init__(self) -> None:
        super().__init__()
        self.handler = _Handler(self.market, self.emit)


def test_base_feeds_the_handler_drains_events_and_counts() -> None:
    dec = _Decoder()
    assert dec.feed("pong", 1.0) == []
    out: list[MarketEvent] = dec.feed({"books": [("A/B", [(1.0, 2.0)], [(1.5, 1.0)])]}, 2.0)
    assert len(out) == 1 and dec.drain() == []
    assert dec.is_synced("A/B") and dec.books["A/B"].best_bid == 1.0
    assert dec.market.book("v", "A/B") is dec.books["A/B"]
    c = dec.counters
    assert (c["messages"], c["ignored"], c["book_snapshots"]) == (2, 1, 1)
    assert dec.snapshot("https://x/y", {}, 3.0) == []
    assert dec.apply_snapshot(None, 3.0) == [] and dec.counters["ignored"] == 2
