"""Bybit v5's public wire protocol: ``{"req_id", "op", "args": [topic, ...]}`` requests,
``orderbook.{depth}.{symbol}`` / ``publicTrade.{symbol}`` topics, the JSON ping."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import msgspec
from arbot.connectors.protocol import Channel, Subscription
from arbot.connectors.records import Control, Record
from arbot.connectors.ws import GarbageFrame

from arbot_bybit.messages import control_of, decode, parse

__all__ = ["BybitProtocol"]

#: ``req_id`` of outgoing requests (unique per process, echoed in the replies).
_REQ_IDS = itertools.count(1)


class BybitProtocol:
    """The protocol of one Bybit public socket (one category). ``depth`` is the orderbook
    depth subscribed; ``args_per_message`` bounds a request (spot: 10 topics)."""

    whole_set = False
    welcome_first = False

    def __init__(self, depth: int | str = 1000, args_per_message: int = 10) -> None:
        self.depth = depth
        self.args_per_message = args_per_message

    def topic(self, sub: Subscription) -> str:
        """``orderbook.{depth}.{symbol}`` or ``publicTrade.{symbol}``."""
        if sub.channel is Channel.BOOK:
            return f"orderbook.{self.depth}.{sub.venue_symbol}"
        return f"publicTrade.{sub.venue_symbol}"

    def request(self, op: str, args: list[str] | None = None) -> str:
        """``{"req_id": n, "op": op, "args": [...]}``."""
        msg: dict[str, object] = {"req_id": str(next(_REQ_IDS)), "op": op}
        if args is not None:
            msg["args"] = args
        return msgspec.json.encode(msg).decode()

    def _requests(self, op: str, subs: Sequence[Subscription]) -> list[str]:
        topics = [self.topic(s) for s in subs]
        n = self.args_per_message
        return [self.request(op, topics[i:i + n]) for i in range(0, len(topics), n)]

    def subscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """``subscribe`` requests."""
        return self._requests("subscribe", subs)

    def unsubscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """``unsubscribe`` requests."""
        return self._requests("unsubscribe", subs)

    def ping(self) -> str:
        """``{"req_id": n, "op": "ping"}``."""
        return self.request("ping")

    def decode(self, frame: str | bytes) -> list[Record] | Control:
        """Records of a push, or the control reply (``pong``, ack, failure)."""
        records = decode(frame)
        if records is not None:
            return records
        control = control_of(frame)
        if control is None:
            raise GarbageFrame("not a Bybit message")
        op, success = control
        if not success:
            return Control.ERROR
        return Control.PONG if op == "pong" else Control.ACK

    def parse(self, msg: object) -> list[Record] | None:
        """Records of a JSON-decoded push."""
        return parse(msg)
