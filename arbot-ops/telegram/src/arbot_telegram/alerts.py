"""Batching alerts into few messages: a storm becomes one message with a count, never a flood.

Alerts accumulate in an :class:`AlertBatch`; every batch window the sender takes them out as
messages of at most ``max_lines`` lines (and Telegram's 4096 characters), the rest summarised as
"… and N more". Repeated alerts with the same key inside a window are merged with a count.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import attrs

__all__ = ["MAX_CHARS", "Alert", "AlertBatch"]

#: Telegram's limit on one message's text.
MAX_CHARS = 4096


@attrs.define
class Alert:
    """One line of an alert message; ``count`` repeats merged into it."""

    level: str
    text: str
    count: int = 1

    def line(self) -> str:
        """The line as sent."""
        icon = {"error": "🔴", "warning": "🟠", "info": "🟢"}.get(self.level, "•")
        suffix = f" (×{self.count})" if self.count > 1 else ""
        return f"{icon} {self.text}{suffix}"


class AlertBatch:
    """Thread-safe pending alerts, merged by key."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self._lock = threading.Lock()
        self._pending: OrderedDict[str, Alert] = OrderedDict()
        self.merged = 0

    def add(self, level: str, text: str, key: str | None = None) -> None:
        """Queue an alert; one with the same ``key`` already pending is counted instead."""
        key = key or text
        with self._lock:
            existing = self._pending.get(key)
            if existing is not None:
                existing.count += 1
                self.merged += 1
            else:
                self._pending[key] = Alert(level, text)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def take(self, title: str) -> str | None:
        """Everything pending as one message text (None when nothing is pending)."""
        with self._lock:
            alerts = list(self._pending.values())
            self._pending.clear()
        if not alerts:
            return None
        lines = [title]
        shown = 0
        for alert in alerts[: self.max_lines]:
            line = alert.line()
            if sum(len(x) + 1 for x in lines) + len(line) + 40 > MAX_CHARS:
                break
            lines.append(line)
            shown += 1
        hidden = sum(a.count for a in alerts[shown:])
        if hidden:
            lines.append(f"… and {hidden} more")
        return "\n".join(lines)
