"""KuCoin ``/market/level2`` synchronisation (``sequenceStart``/``sequenceEnd`` vs REST ``sequence``).

Calibration: buffer ``trade.l2update`` messages, fetch the REST book (its ``sequence`` is a
string), drop updates with ``sequenceEnd <= sequence``, apply the one with
``sequenceStart <= sequence + 1 <= sequenceEnd`` and then require
``sequenceStart == last sequenceEnd + 1``. Inside a bridging update, entries whose own
sequence is ``<= sequence`` are already in the snapshot and are skipped (:func:`entry_applies`);
an entry with price ``"0"`` only advances the sequence.
"""

from __future__ import annotations

import enum
from collections import deque
from typing import Generic, TypeVar

__all__ = ["BookSync", "Phase", "Verdict", "bridges", "entry_applies", "seq_verdict"]

T = TypeVar("T")


def entry_applies(price: float, entry_seq: int, snapshot_seq: int) -> bool:
    """True when one ``changes`` entry must be applied to a book synced at ``snapshot_seq``."""
    return price > 0.0 and entry_seq > snapshot_seq


class Verdict(enum.StrEnum):
    """What to do with one incremental message."""

    APPLY = "apply"
    BRIDGE = "bridge"  # applied, and it is the first one after the snapshot: the book is live
    BUFFER = "buffer"  # no usable snapshot yet: keep it for when one arrives
    STALE = "stale"  # already contained in the book: drop
    GAP = "gap"  # updates were lost: a new snapshot is needed


class Phase(enum.StrEnum):
    """Synchronisation phase of one book."""

    WAITING_SNAPSHOT = "waiting_snapshot"
    BRIDGING = "bridging"  # snapshot applied, waiting for the update that bridges it
    LIVE = "live"


def seq_verdict(last: int, first_id: int, last_id: int) -> Verdict:
    """Compare an update covering ids ``first_id..last_id`` to the last applied id ``last``."""
    if last_id <= last:
        return Verdict.STALE
    if first_id > last + 1:
        return Verdict.GAP
    return Verdict.APPLY


def bridges(snapshot_id: int, first_id: int, last_id: int) -> bool:
    """True when an update bridges a snapshot: ``first_id <= snapshot_id + 1 <= last_id``."""
    return first_id <= snapshot_id + 1 <= last_id


class BookSync(Generic[T]):
    """The per-book state machine: buffer before the snapshot, bridge, then strict continuity.

    ``on_delta`` returns the verdict for one update; ``on_snapshot`` replays the buffer and
    returns the buffered updates to apply, in order, with their verdicts. Counters: ``gaps``
    (lost updates while live), ``stale``, ``snapshot_behind`` (a snapshot older than the
    first update after it; a new snapshot is needed), ``buffer_overflow``.
    """

    __slots__ = ("_buffer", "counters", "last", "max_buffer", "phase")

    def __init__(self, max_buffer: int = 2000) -> None:
        self.phase = Phase.WAITING_SNAPSHOT
        self.last: int | None = None
        self.max_buffer = max_buffer
        self._buffer: deque[tuple[int, int, T]] = deque()
        self.counters = {"gaps": 0, "stale": 0, "snapshot_behind": 0, "buffer_overflow": 0}

    @property
    def buffered(self) -> int:
        """Number of buffered updates."""
        return len(self._buffer)

    def _hold(self, first_id: int, last_id: int, item: T) -> None:
        if len(self._buffer) >= self.max_buffer:
            self._buffer.popleft()
            self.counters["buffer_overflow"] += 1
        self._buffer.append((first_id, last_id, item))

    def on_delta(self, first_id: int, last_id: int, item: T) -> Verdict:
        """Verdict for one update; BUFFER/GAP keep it for the next snapshot."""
        if self.phase is Phase.WAITING_SNAPSHOT or self.last is None:
            self._hold(first_id, last_id, item)
            return Verdict.BUFFER
        v = seq_verdict(self.last, first_id, last_id)
        if v is Verdict.STALE:
            self.counters["stale"] += 1
            return v
        if v is Verdict.GAP:
            self.counters["snapshot_behind" if self.phase is Phase.BRIDGING else "gaps"] += 1
            self.phase = Phase.WAITING_SNAPSHOT
            self.last = None
            self._buffer.clear()
            self._hold(first_id, last_id, item)
            return v
        self.last = last_id
        if self.phase is Phase.BRIDGING:
            self.phase = Phase.LIVE
            return Verdict.BRIDGE
        return Verdict.APPLY

    def on_snapshot(self, snapshot_id: int) -> list[tuple[Verdict, T]]:
        """Reset to a snapshot; the buffered updates to apply now (APPLY/BRIDGE), in order."""
        self.phase = Phase.BRIDGING
        self.last = snapshot_id
        pending = list(self._buffer)
        self._buffer.clear()
        out: list[tuple[Verdict, T]] = []
        for i, (first_id, last_id, item) in enumerate(pending):
            v = self.on_delta(first_id, last_id, item)
            if v is Verdict.GAP:
                for rest in pending[i + 1 :]:
                    self._hold(*rest)
                break
            if v in (Verdict.APPLY, Verdict.BRIDGE):
                out.append((v, item))
        return out

    def on_full(self, last_id: int) -> None:
        """A full book pushed over the socket with its last id: live at once."""
        self.phase = Phase.LIVE
        self.last = last_id
        self._buffer.clear()

    def reset(self) -> None:
        """Forget everything (reconnect)."""
        self.phase = Phase.WAITING_SNAPSHOT
        self.last = None
        self._buffer.clear()
