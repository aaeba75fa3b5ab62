"""Gate.io v4 spot's public wire protocol: ``{"time", "id", "channel", "event": "subscribe",
"payload"}`` requests (one per book pair: ``[pair, interval]``; one for every trade pair),
``spot.ping`` / ``spot.pong`` keep-alive, ``update`` pushes, ``error`` replies."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import msgspec
from arbot.connectors.protocol import Channel, Subscription
from arbot.connectors.records import Control, Record
from arbot.connectors.ws import GarbageFrame

from arbot_gate.messages import decode, head, parse

__all__ = ["GateProtocol"]


class GateProtocol:
    """The spot socket's protocol; ``update_interval`` is the order-book speed (``100ms``)."""

    whole_set = False
    welcome_first = False

    def __init__(self, update_interval: str = "100ms") -> None:
        self.update_interval = update_interval
        self._ids = itertools.count(1)

    def _request(self, channel: str, event: str, payload: list[str]) -> str:
        return msgspec.json.encode({"time": int(time.time()), "id": next(self._ids),
                                    "channel": channel, "event": event,
                                    "payload": payload}).decode()

    def _requests(self, event: str, subs: Sequence[Subscription]) -> list[str]:
        out = [self._request("spot.order_book_update", event, [s.venue_symbol, self.update_interval])
               for s in subs if s.channel is Channel.BOOK]
        trades = [s.venue_symbol for s in subs if s.channel is Channel.TRADES]
        if trades:
            out.append(self._request("spot.trades", event, trades))
        return out

    def subscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """One request per book pair, one for the trade pairs."""
        return self._requests("subscribe", subs)

    def unsubscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """The same with ``event: unsubscribe``."""
        return self._requests("unsubscribe", subs)

    def ping(self) -> str:
        """``{"time": .., "channel": "spot.ping"}``."""
        return msgspec.json.encode({"time": int(time.time()), "channel": "spot.ping"}).decode()

    def decode(self, frame: str | bytes) -> list[Record] | Control:
        """Records of an ``update`` push; pong, acks and errors."""
        h = head(frame)
        if h.event == "update":
            records = decode(frame)
            return records if records is not None else Control.IGNORED
        if h.error is not None:
            return Control.ERROR
        if h.channel == "spot.pong":
            return Control.PONG
        if h.event in ("subscribe", "unsubscribe"):
            return Control.ACK
        raise GarbageFrame("not a Gate message")

    def parse(self, msg: object) -> list[Record] | None:
        """Records of a JSON-decoded message."""
        return parse(msg)
