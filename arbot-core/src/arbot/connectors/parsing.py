"""Small parsing pieces shared by several venues' decoders.

* :func:`number` — a metadata field as a float, with a default for missing/empty/bad values;
* :class:`ChannelArg` / :class:`PushHead` / :func:`event_of` — the header of that family's
  frames (``{"arg": {"channel", "instId"}, "event": .., "data": ..}``).
"""

from __future__ import annotations

import msgspec

from arbot.connectors.records import number

__all__ = ["ChannelArg", "PushHead", "event_of", "number", "push_head_decoder"]


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
