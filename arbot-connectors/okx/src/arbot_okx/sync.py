"""OKX book synchronisation: the sequence rule for core ``BookSync`` and when the checksum
applies.

* Sequence (``seqId``/``prevSeqId``, per instrument): a snapshot has ``prevSeqId == -1``; an
  update applies when its ``prevSeqId`` equals the last applied ``seqId`` (this covers the
  empty heartbeat with ``seqId == prevSeqId`` and the post-maintenance reset where
  ``seqId < prevSeqId``). Anything else is a gap -> resubscribe for a new snapshot. This is
  core :class:`~arbot.connectors.booksync.PrevSeqRule`; :class:`OkxSequenceRule` only adds
  the pre-2023 messages that carry no ids at all (their integrity rests on the checksum).
* Checksum: core :mod:`arbot.connectors.checksum` (CRC32 of the best 25 levels of each side
  over the original strings, signed). Messages from before the seqId era (e.g. the 2022
  capture) carry only the checksum, which is then the integrity check. OKX fixed the field to
  0 from 2026-06-23; a 0 on a message that carries ``seqId`` is therefore not checked
  (:func:`checksum_applies`).
"""

from __future__ import annotations

from arbot.connectors.booksync import PrevSeqRule, Verdict
from arbot.connectors.records import BookRecord

__all__ = ["OkxSequenceRule", "checksum_applies", "okx_checksum_applies"]


class OkxSequenceRule(PrevSeqRule):
    """``prevSeqId == last seqId`` (core :class:`PrevSeqRule`); a message without ids (the
    pre-2023 format: ``prev`` is None) applies, the checksum guards it."""

    name = "okx"

    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """``prev`` None: apply; otherwise :meth:`PrevSeqRule.next`."""
        if prev is None:
            return Verdict.APPLY
        return super().next(local, first, last, prev)


def checksum_applies(checksum: int | None, seq: int | None) -> bool:
    """True when an OKX message's checksum must be verified (see the module docstring)."""
    if checksum is None:
        return False
    return not (checksum == 0 and seq is not None)


def okx_checksum_applies(rec: BookRecord) -> bool:
    """:func:`checksum_applies` of a book record (its ``seqId`` is ``prev``: None before 2023)."""
    return checksum_applies(rec.checksum, rec.prev)
