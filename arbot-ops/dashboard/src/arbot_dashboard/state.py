"""The bot's live state as one JSON-ready dict, read from its components for each push.

The engine keeps running on its own thread while this reads; a read torn by a concurrent change
(a dict resized, a level removed) is retried, and after five tries the section is sent empty
for this push only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from arbot.bot import Bot
from arbot.market import BookHealth
from arbot.risk.rules import CircuitBreakerRule

__all__ = ["bot_state"]

JsonDict = dict[str, Any]

#: Connector counters the page shows (the rest stay in the summary).
CONNECTOR_KEYS = (
    "connects",
    "reconnects",
    "messages",
    "resyncs",
    "gaps",
    "checksum_failures",
    "garbage_frames",
)


def _retry(read: Callable[[], Any], empty: Any) -> Any:
    for _ in range(5):
        try:
            return read()
        except (RuntimeError, KeyError, IndexError, ValueError):
            continue
    return empty


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _books(bot: Bot) -> list[JsonDict]:
    now = bot.ctx.clock.now()
    rows = []
    for book in list(bot.ctx.market):
        bid, ask = book.bids.best(), book.asks.best()
        rows.append(
            {
                "venue": book.venue,
                "symbol": book.symbol,
                "bid": bid[0] if bid else None,
                "bid_qty": bid[1] if bid else None,
                "ask": ask[0] if ask else None,
                "ask_qty": ask[1] if ask else None,
                "spread_bps": (ask[0] / bid[0] - 1.0) * 1e4 if bid and ask and bid[0] > 0 else None,
                "age_ms": _num((now - book.ts) * 1000.0),
                "health": bot.ctx.market.health(book.venue, book.symbol),
            }
        )
    rows.sort(key=lambda r: (r["symbol"], r["venue"]))
    return rows


def _cross_spreads(books: list[JsonDict]) -> list[JsonDict]:
    """Per symbol: the best bid across venues against the best ask across venues."""
    out = []
    for symbol in sorted({b["symbol"] for b in books}):
        live = [
            b
            for b in books
            if b["symbol"] == symbol and b["health"] == BookHealth.LIVE and b["bid"] and b["ask"]
        ]
        if len(live) < 2:
            continue
        best_bid = max(live, key=lambda b: b["bid"])
        best_ask = min(live, key=lambda b: b["ask"])
        out.append(
            {
                "symbol": symbol,
                "buy_venue": best_ask["venue"],
                "sell_venue": best_bid["venue"],
                "gross_spread_pct": (best_bid["bid"] / best_ask["ask"] - 1.0) * 100.0,
            }
        )
    return out


def _connectors(bot: Bot) -> list[JsonDict]:
    stats = bot.source.stats()
    rows = []
    for venue in bot.source.venues():
        s = stats.get(venue)
        s = s if isinstance(s, dict) else {}
        live = [b for b in list(bot.ctx.market) if b.venue == venue]
        rows.append(
            {
                "venue": venue,
                **{k: s.get(k, 0) for k in CONNECTOR_KEYS},
                "books_live": sum(
                    1 for b in live if bot.ctx.market.health(venue, b.symbol) == BookHealth.LIVE
                ),
                "books": len(live),
            }
        )
    return rows


def _portfolio(bot: Bot) -> JsonDict:
    pf = bot.ctx.portfolio
    balances = []
    for (venue, asset), qty in sorted(dict(pf.balances).items()):
        price = pf.usd_price(asset)
        balances.append(
            {
                "venue": venue,
                "asset": asset,
                "balance": qty,
                "usd": qty * price if price == price else None,
                "change_usd": pf.inventory_change_usd(venue, asset),
            }
        )
    return {
        "balances": balances,
        "value_usd": pf.value_usd(),
        "exposure_usd": pf.inventory_change_usd(),
        "residual_usd": pf.net_position_usd(),
    }


def _performance(bot: Bot) -> JsonDict:
    perf = bot.engine.performance
    return {
        "events": bot.engine.events_processed,
        "detected": perf.detected,
        "executed": perf.executed,
        "missed": perf.missed,
        "rejected": perf.rejected,
        "rejected_by_rule": dict(perf.rejected_by_rule),
        "pnl_usd": perf.pnl,
        "fees_usd": perf.fees,
        "win_rate": perf.win_rate,
        "max_drawdown_pct": perf.max_drawdown()[1] * 100.0,
    }


def _risk(bot: Bot) -> JsonDict:
    now = bot.ctx.clock.now()
    breakers = [r for r in bot.risk_rules if isinstance(r, CircuitBreakerRule)]
    open_until = max((b.halted_until for b in breakers), default=-math.inf)
    return {
        "circuit_breaker": "open" if now < open_until else ("closed" if breakers else "not configured"),
        "cooldown_left_s": max(0.0, open_until - now) if now < open_until else 0.0,
        "consecutive_losses": max((b.consecutive_losses for b in breakers), default=0),
        "trips": sum(b.trips for b in breakers),
        "rules": [r.name for r in bot.risk_rules],
    }


def bot_state(bot: Bot) -> JsonDict:
    """Everything the page shows except the event feed."""
    books = _retry(lambda: _books(bot), [])
    return {
        "ts": time.time(),
        "mode": bot.ctx.mode,
        "run_id": bot.ctx.run_id,
        "books": books,
        "spreads": _cross_spreads(books),
        "connectors": _retry(lambda: _connectors(bot), []),
        "portfolio": _retry(lambda: _portfolio(bot), {}),
        "performance": _retry(lambda: _performance(bot), {}),
        "risk": _retry(lambda: _risk(bot), {}),
    }
