"""The recent events the page lists: opportunities with their decision, and fills.

The sink's writer thread appends; the web server's thread reads copies. Both go through one
lock, and each list is bounded.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

from arbot.events import ExecutionReport, SignalRecord

__all__ = ["EventFeed"]

JsonDict = dict[str, Any]


class EventFeed:
    """Bounded lists of the latest opportunities and fills, plus running counts."""

    def __init__(self, keep: int = 50) -> None:
        self._lock = threading.Lock()
        self._opportunities: collections.deque[JsonDict] = collections.deque(maxlen=keep)
        self._fills: collections.deque[JsonDict] = collections.deque(maxlen=keep)
        self._counts: collections.Counter[str] = collections.Counter()

    def add(self, event: object) -> None:
        """Record one event (others are ignored)."""
        if isinstance(event, SignalRecord):
            opp = event.opportunity
            row = {
                "id": opp.id,
                "ts": event.ts,
                "strategy": opp.strategy,
                "symbol": opp.symbol,
                "route": f"{opp.buy_venue or '?'} → {opp.sell_venue or '?'}",
                "net_spread_pct": opp.net_spread_pct,
                "estimated_profit": opp.estimated_profit,
                "status": event.status.value,
                "reason": event.reason,
                "pnl": event.actual_pnl,
            }
            with self._lock:
                self._opportunities.appendleft(row)
                self._counts[event.status.value] += 1
        elif isinstance(event, ExecutionReport):
            rows: list[JsonDict] = [
                {
                    "ts": f.ts,
                    "venue": f.venue,
                    "symbol": f.symbol,
                    "side": f.side.value,
                    "qty": f.filled_qty,
                    "price": f.avg_price,
                    "fee": f.fee,
                    "fee_asset": f.fee_asset,
                    "status": f.status.value,
                    "latency_ms": f.latency_ms,
                }
                for f in event.fills
            ]
            with self._lock:
                for row in rows:
                    self._fills.appendleft(row)
                self._counts["fills"] += len(rows)

    def snapshot(self) -> JsonDict:
        """Copies of the lists and counts."""
        with self._lock:
            return {
                "opportunities": list(self._opportunities),
                "fills": list(self._fills),
                "counts": dict(self._counts),
            }
