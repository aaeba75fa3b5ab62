"""Counters: plain integers on the hot path, read by the summary, metrics sinks and tests."""

from __future__ import annotations

from collections import Counter


class Counters(Counter[str]):
    """Named event counters (``counters["book_updates"] += 1``)."""

    def as_dict(self) -> dict[str, int]:
        """A plain, sorted copy."""
        return {k: self[k] for k in sorted(self)}
