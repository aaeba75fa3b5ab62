"""Replaying real captures through a connector's replay decoder, for connector tests."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any

from arbot.components import MarketEvent
from arbot.connectors.replay import RecordReplayDecoder
from arbot.events import BookUpdate
from arbot.sources.replay import iter_capture
from arbot.testing.data import shared_data

__all__ = ["CaptureLine", "capture_lines", "replay_lines"]

#: One capture line: ``(local time, kind, payload, url)`` (see :func:`arbot.sources.replay.iter_capture`).
CaptureLine = tuple[float, str, Any, str | None]


def capture_lines(*names: str) -> list[CaptureLine]:
    """Every line of the shared-data captures ``names`` (``"ws/..."``, ``"rest/..."``), merged by
    local time as the replay source merges them (a test is skipped when the data is absent)."""
    return list(heapq.merge(*(iter_capture(shared_data(n)) for n in names), key=lambda r: r[0]))


def replay_lines(decoder: RecordReplayDecoder, lines: Iterable[CaptureLine], *,
                 uncrossed: bool = True) -> list[MarketEvent]:
    """Feed capture lines to ``decoder`` (pushes to ``feed``, REST replies to ``snapshot``) and
    return the events. With ``uncrossed``, every book event must leave its book applied and
    uncrossed (an ``AssertionError`` names the symbol otherwise)."""
    events: list[MarketEvent] = []
    for ts, kind, payload, url in lines:
        if kind == "rest":
            evs = decoder.snapshot(url or "", payload, ts)
        elif kind == "in":
            evs = decoder.feed(payload, ts)
        else:
            continue
        for ev in evs:
            if uncrossed and isinstance(ev, BookUpdate):
                assert ev.applied and not decoder.market.book(ev.venue, ev.symbol).is_crossed, ev.symbol
            events.append(ev)
    return events
