"""The typed records a venue's wire protocol decodes its frames into, and the control
outcomes of the other frames.

Every venue turns a book push into one :class:`BookRecord` (what kind of book message it is,
its levels, the venue's sequence ids and optional checksum) and a trade into one
:class:`TradeMsg`; the book bootstraps of :mod:`arbot.connectors.bootstrap` apply them with the
venue's sequence rule, so no core part needs to know a venue's field names.
"""

from __future__ import annotations

import enum

import msgspec

from arbot.events import Side

__all__ = ["BookKind", "BookRecord", "Control", "Record", "TradeMsg", "number"]


class BookKind(enum.IntEnum):
    """What one book message is."""

    #: Changes to apply on top of the book (size 0 deletes a level).
    DELTA = 0
    #: The whole book with its sequence id; later deltas chain to it.
    SNAPSHOT = 1
    #: A complete top-N book that replaces the book held (no sequence ids).
    FULL = 2


class BookRecord(msgspec.Struct, gc=False):
    """One normalized book message of one market.

    ``symbol`` is the venue's market id. ``first``/``last`` are the venue's sequence ids of
    the message (equal for venues with one number; the snapshot id for a snapshot), ``prev``
    the id of the previous message where the venue sends one. ``checksum`` is the value the
    venue sent (None: nothing to verify) and ``raw_bids``/``raw_asks`` the levels' original
    strings it is computed over. ``entry_seqs`` are per-level sequence ids (bids, asks) for
    venues that number each change (KuCoin): levels at or below the book's id are skipped.
    """

    symbol: str
    kind: BookKind
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    first: int = 0
    last: int = 0
    prev: int | None = None
    ts: float | None = None
    checksum: int | None = None
    raw_bids: list[tuple[str, str]] = []
    raw_asks: list[tuple[str, str]] = []
    entry_seqs: tuple[list[int], list[int]] | None = None


class TradeMsg(msgspec.Struct, gc=False):
    """One public trade; ``side`` is the taker side, ``ts`` the venue time in seconds."""

    symbol: str
    price: float
    size: float
    side: Side
    ts: float | None
    trade_id: str


#: A decoded market record.
Record = BookRecord | TradeMsg


class Control(enum.StrEnum):
    """What a frame that carries no market record was."""

    #: A reply to the keep-alive.
    PONG = "pong"
    #: A subscription acknowledgement or another harmless reply.
    ACK = "ack"
    #: An error reply (counted in ``control_errors`` and logged).
    ERROR = "error"
    #: The venue's greeting: subscriptions may be sent now (KuCoin).
    WELCOME = "welcome"
    #: The venue announced it will close the connection: reconnect now (Binance).
    RECONNECT = "reconnect"
    #: A venue message the connector does not use (tickers...).
    IGNORED = "ignored"


def number(value: object, default: float = 0.0) -> float:
    """A metadata field as a float (``default`` when missing, empty or not a number)."""
    if not isinstance(value, (int, float, str)) or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        return default
