"""KuCoin spot's public wire protocol: ``{"id", "type": "subscribe", "topic":
"/market/level2:S1,S2", "response": true}`` requests (at most 100 symbols a topic), nothing
sent before the ``welcome``, JSON ``ping``/``pong``, ``message`` pushes."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import msgspec
from arbot.connectors.protocol import Channel, Subscription
from arbot.connectors.records import Control, Record
from arbot.connectors.ws import GarbageFrame

from arbot_kucoin.messages import decode, frame_type, parse

__all__ = ["KucoinProtocol"]

_PREFIX = {Channel.BOOK: "/market/level2", Channel.TRADES: "/market/match"}


class KucoinProtocol:
    """The public socket's protocol (a bullet token in the URL, see the connector)."""

    whole_set = False
    welcome_first = True

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def _requests(self, kind: str, subs: Sequence[Subscription]) -> list[str]:
        out = []
        for channel, prefix in _PREFIX.items():
            syms = [s.venue_symbol for s in subs if s.channel is channel]
            for i in range(0, len(syms), 100):
                out.append(msgspec.json.encode({
                    "id": str(next(self._ids)), "type": kind,
                    "topic": f"{prefix}:{','.join(syms[i:i + 100])}", "privateChannel": False,
                    "response": True}).decode())
        return out

    def subscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """``subscribe`` requests, 100 symbols a topic."""
        return self._requests("subscribe", subs)

    def unsubscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """``unsubscribe`` requests."""
        return self._requests("unsubscribe", subs)

    def ping(self) -> str:
        """``{"id": n, "type": "ping"}``."""
        return msgspec.json.encode({"id": str(next(self._ids)), "type": "ping"}).decode()

    def decode(self, frame: str | bytes) -> list[Record] | Control:
        """Records of a ``message``; welcome, ack, pong, notice and error frames."""
        kind = frame_type(frame)
        if kind == "message":
            records = decode(frame)
            return records if records is not None else Control.IGNORED
        if kind == "welcome":
            return Control.WELCOME
        if kind == "error":
            return Control.ERROR
        if kind == "pong":
            return Control.PONG
        if kind in ("ack", "notice"):
            return Control.ACK
        raise GarbageFrame("not a KuCoin message")

    def parse(self, msg: object) -> list[Record] | None:
        """Records of a JSON-decoded message."""
        return parse(msg)
