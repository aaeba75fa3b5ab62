"""Small parsing pieces shared by several venues' decoders.

* :func:`number` — a metadata field as a float, with a default for missing/empty/bad values;
* :class:`BookMsg` / :class:`TradeMsg` — the normalized book and trade records of the
  ``arg``/``action``/``data`` push family (OKX, Bitget) and of Bybit's trades; book levels keep
  their original strings (``raw_bids``/``raw_asks``) for the CRC32 checksum
  (:mod:`arbot.connectors.checksum`);
* :class:`ChannelArg` / :class:`PushHead` / :func:`event_of` — the header of that family's
  frames (``{"arg": {"channel", "instId"}, "event": .., "data": ..}``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from arbot.events import Side

__all__ = ["BookMsg", "ChannelArg", "PushHead", "TradeMsg", "event_of", "number", "push_head_decoder"]


def number(value: Any, default: float = 0.0) -> float:
    """A metadata field as a float (``default`` when missing, empty or not a number)."""
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


class BookMsg(msgspec.Struct, gc=False):
    """One normalized book push of one instrument.

    ``prev_seq``/``seq`` are the venue's previous/current sequence ids (None when the message
    has none), ``checksum`` the signed CRC32 the venue sent (None or 0 when there is none to
    verify), ``ts`` the venue time in seconds, ``channel`` the venue channel.
    """

    symbol: str
    is_snapshot: bool
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    raw_bids: list[tuple[str, str]]
    raw_asks: list[tuple[str, str]]
    prev_seq: int | None
    seq: int | None
    checksum: int | None
    ts: float | None
    channel: str = "books"


class TradeMsg(msgspec.Struct, gc=False):
    """One public trade; ``side`` is the taker side."""

    symbol: str
    price: float
    size: float
    side: Side
    ts: float | None
    trade_id: str


class ChannelArg(msgspec.Struct):
    """The ``arg`` of a push or reply: channel and instrument id."""

    channel: str = ""
    instId: str = ""  # noqa: N815 - venue field name


class PushHead(msgspec.Struct):
    """The header of a frame: ``arg`` (pushes and acks), ``event`` (replies), ``data`` (raw)."""

    arg: ChannelArg | None = None
    event: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"")


#: Decoder of :class:`PushHead`.
push_head_decoder = msgspec.json.Decoder(PushHead)


def event_of(raw: bytes | str) -> str | None:
    """The ``event`` of a control frame (``subscribe``, ``unsubscribe``, ``error``...), ``""``
    for a push with an ``arg`` but no event, None for a frame that has neither (not a message
    of the family). Raises a msgspec error for a frame that is not such JSON."""
    head = push_head_decoder.decode(raw)
    if head.event is not None:
        return head.event
    return "" if head.arg is not None else None
