"""A venue's wire protocol: the typed part a connector author writes for a venue's public
WebSocket.

:class:`WireProtocol` is structural (:class:`typing.Protocol`): any object with these
methods and attributes is one. The base connector (:mod:`arbot.connectors.base`) calls
:meth:`~WireProtocol.subscribe` / :meth:`~WireProtocol.unsubscribe` with
:class:`Subscription` items, sends :meth:`~WireProtocol.ping` as the keep-alive and gives
every frame to :meth:`~WireProtocol.decode`, which returns the frame's typed records
(:class:`~arbot.connectors.records.BookRecord`, :class:`~arbot.connectors.records.TradeMsg`)
or what control frame it was (:class:`~arbot.connectors.records.Control`).
:meth:`~WireProtocol.parse` does the same for a JSON-decoded message (capture replay).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, Protocol

import msgspec

from arbot.connectors.parsing import event_of
from arbot.connectors.records import Control, Record
from arbot.connectors.ws import GarbageFrame

__all__ = ["Channel", "OpArgsProtocol", "Subscription", "TicketProtocol", "WireProtocol"]


class Channel(enum.StrEnum):
    """What a subscription is for."""

    BOOK = "book"
    TRADES = "trades"


class Subscription(NamedTuple):
    """One channel of one market (the venue's id)."""

    channel: Channel
    venue_symbol: str


class WireProtocol(Protocol):
    """A venue's public WebSocket protocol (see the module docstring).

    ``whole_set``: True when each subscription request carries the connection's whole
    subscription set and replaces the previous one (Upbit, Bithumb); :meth:`subscribe` is then
    called with every subscription each time. ``welcome_first``: True when nothing may be
    sent before the venue's greeting (:attr:`Control.WELCOME`, KuCoin).
    """

    whole_set: bool
    welcome_first: bool

    def subscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """The messages that subscribe ``subs`` (as many as the venue's limits need)."""
        ...

    def unsubscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """The messages that unsubscribe ``subs`` (empty when the venue has none)."""
        ...

    def ping(self) -> str | None:
        """The application keep-alive message (None: the venue pings, or protocol pings)."""
        ...

    def decode(self, frame: str | bytes) -> list[Record] | Control:
        """The records of one raw frame, or what control frame it is. Raise
        :class:`~arbot.connectors.ws.GarbageFrame` (or a decode error) for a frame that is
        not one of the venue's messages."""
        ...

    def parse(self, msg: object) -> list[Record] | None:
        """The records of one JSON-decoded message (None: no market data in it)."""
        ...


class OpArgsProtocol:
    """The ``{"op": "subscribe", "args": [{"channel": .., "instId": ..}]}`` request /
    ``arg``/``action``/``data`` push family (OKX, Bitget): a reusable
    :class:`WireProtocol` for venues of that shape.

    ``decode_records(frame)`` / ``parse_records(msg)`` are the venue's own decoders;
    ``book_channel`` / ``trade_channel`` the channels subscribed; ``extra_arg`` entries go
    into every ``args`` item (Bitget's ``instType``); ``args_per_message`` bounds a request.
    Keep-alive: the text ``ping``, answered by the text ``pong``.
    """

    whole_set = False
    welcome_first = False

    def __init__(
        self,
        decode_records: Callable[[str | bytes], list[Record] | None],
        parse_records: Callable[[object], list[Record] | None],
        *,
        book_channel: str,
        trade_channel: str,
        venue: str,
        args_per_message: int = 20,
        extra_arg: Mapping[str, str] | None = None,
    ) -> None:
        self.decode_records = decode_records
        self.parse_records = parse_records
        self.channels = {Channel.BOOK: book_channel, Channel.TRADES: trade_channel}
        self.venue = venue
        self.args_per_message = args_per_message
        self.extra_arg = dict(extra_arg or {})

    def _requests(self, op: str, subs: Sequence[Subscription]) -> list[str]:
        args = [{**self.extra_arg, "channel": self.channels[s.channel], "instId": s.venue_symbol}
                for s in subs]
        n = self.args_per_message
        return [msgspec.json.encode({"op": op, "args": args[i:i + n]}).decode()
                for i in range(0, len(args), n)]

    def subscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """``subscribe`` requests, ``args_per_message`` channels each."""
        return self._requests("subscribe", subs)

    def unsubscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """``unsubscribe`` requests."""
        return self._requests("unsubscribe", subs)

    def ping(self) -> str:
        """The text ``ping``."""
        return "ping"

    def decode(self, frame: str | bytes) -> list[Record] | Control:
        """Records of a push; ``pong``; an ``event`` reply (``error`` or an ack)."""
        if frame == "pong" or frame == b"pong":
            return Control.PONG
        records = self.decode_records(frame)
        if records is not None:
            return records
        event = event_of(frame)
        if event is None:
            raise GarbageFrame(f"not a {self.venue} message")
        return Control.ERROR if event == "error" else Control.ACK

    def parse(self, msg: object) -> list[Record] | None:
        """Records of a JSON-decoded push."""
        return self.parse_records(msg)


class TicketProtocol:
    """The ``[{"ticket": ..}, {"type": "orderbook", "codes": [..]}, {"type": "trade", "codes":
    [..]}, {"format": ..}]`` request family (Upbit; Bithumb's current API mirrors it): one
    request carries the connection's whole subscription set (``whole_set``) and replaces the
    previous one; keep-alive: the text ``PING``. A reusable :class:`WireProtocol`.

    ``decode_records(frame)`` / ``parse_records(msg)`` are the venue's decoders (records of a
    market message, None for anything else); ``control(frame)`` classifies the other frames
    (None: not a venue message). ``depth`` (None: no ``.n`` suffix) sets the units per book.
    """

    whole_set = True
    welcome_first = False

    def __init__(
        self,
        decode_records: Callable[[str | bytes], list[Record] | None],
        parse_records: Callable[[object], list[Record] | None],
        control: Callable[[str | bytes], Control | None],
        *,
        venue: str,
        depth: int | None = None,
        fmt: str = "DEFAULT",
    ) -> None:
        self.decode_records = decode_records
        self.parse_records = parse_records
        self.control = control
        self.venue = venue
        self.depth = depth
        self.fmt = fmt

    def subscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """The one request frame of the whole set (a new ticket each time)."""
        books = [s.venue_symbol if self.depth is None else f"{s.venue_symbol}.{self.depth}"
                 for s in subs if s.channel is Channel.BOOK]
        trades = [s.venue_symbol for s in subs if s.channel is Channel.TRADES]
        req: list[dict[str, object]] = [{"ticket": f"arbot-{uuid.uuid4().hex[:16]}"}]
        if books:
            req.append({"type": "orderbook", "codes": books})
        if trades:
            req.append({"type": "trade", "codes": trades})
        req.append({"format": self.fmt})
        return [msgspec.json.encode(req).decode()]

    def unsubscribe(self, subs: Sequence[Subscription]) -> list[str]:
        """None: each request replaces the set."""
        return []

    def ping(self) -> str:
        """The text ``PING``."""
        return "PING"

    def decode(self, frame: str | bytes) -> list[Record] | Control:
        """Records of a market message, or what the other frame is."""
        records = self.decode_records(frame)
        if records is not None:
            return records
        control = self.control(frame)
        if control is None:
            raise GarbageFrame(f"not a {self.venue} message")
        return control

    def parse(self, msg: object) -> list[Record] | None:
        """Records of a JSON-decoded message."""
        return self.parse_records(msg)
