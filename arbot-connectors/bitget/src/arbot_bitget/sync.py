"""Bitget book synchronisation rules: the ``seq`` rule for core ``BookSync``; the checksum.

* Checksum (the integrity check): after applying each ``books`` message, CRC32 (zlib/IEEE) of
  ``bid1px:bid1sz:ask1px:ask1sz:...`` over the best 25 levels of each side using the original
  strings, as a signed 32-bit integer, must equal ``checksum``. This is exactly OKX's
  (historical) algorithm: core :mod:`arbot.connectors.checksum`. A checksum of 0 (the
  ``books1/5/15`` pushes, v2 snapshots) is not checked (core
  :func:`arbot.connectors.checksum.nonzero_checksum`).
* Sequence: v2 spot ``seq`` only increases (there is no ``prevSeq``), so it detects late or
  duplicated messages (STALE), not lost ones; loss shows up as a checksum mismatch. v1 has no
  sequence at all (the handler passes ``-1``).
"""

from __future__ import annotations

from arbot.connectors.booksync import SequenceRule, Verdict

__all__ = ["BitgetSequenceRule"]


class BitgetSequenceRule(SequenceRule):
    """``seq`` must grow (older or repeated messages are stale); no id (``-1``): apply.

    Bitget promises no contiguity, so this rule never reports a gap: the checksum does."""

    name = "bitget"

    def first(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Same as :meth:`next`."""
        return self.next(local, first, last, prev)

    def next(self, local: int, first: int, last: int, prev: int | None) -> Verdict:
        """Newer applies, older is stale; v1 messages (no ``seq``) apply."""
        if last < 0 or local < 0 or last > local:
            return Verdict.APPLY
        return Verdict.STALE

    def snapshot_too_old(self, snapshot_id: int, first_buffered: int, prev: int | None) -> bool:
        """Never: a snapshot on the stream is authoritative."""
        return False
