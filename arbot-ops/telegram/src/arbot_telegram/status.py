"""Text answers to the commands, and the health checks that raise alerts, read from a running bot.

The engine runs on its own thread while these read; a read torn by a concurrent change is
tried again (five times) before the answer says the state was busy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from arbot.bot import Bot
from arbot.execution.journal import JournalError, SqliteJournal
from arbot.execution.killswitch import KILL_FLAG
from arbot.market import BookHealth
from arbot.risk.rules import CircuitBreakerRule
from arbot.sinks.base import BatchingSink

#: File name of the execution journal in the output folder (the executors' ``journal = "sqlite"``).
EXECUTION_JOURNAL = "execution.sqlite"

__all__ = ["balance_text", "breakers", "halt", "pnl_text", "resume", "status_text"]


def _retry(read: Callable[[], str]) -> str:
    for _ in range(5):
        try:
            return read()
        except (RuntimeError, KeyError, IndexError, ValueError):
            continue
    return "the bot's state changed while it was read: ask again"


def breakers(bot: Bot) -> list[CircuitBreakerRule]:
    """The bot's circuit breaker rules."""
    return [r for r in bot.risk_rules if isinstance(r, CircuitBreakerRule)]


def breaker_open(bot: Bot) -> bool:
    """True while any circuit breaker halts trading."""
    now = bot.ctx.clock.now()
    return any(now < b.halted_until for b in breakers(bot))


def _execution_journal(bot: Bot) -> Path | None:
    """The execution journal of the run, when the executor keeps one on disk."""
    path = bot.ctx.output_path / EXECUTION_JOURNAL
    return path if path.is_file() else None


def _kill_flag(bot: Bot, reason: str | None) -> str:
    """Set (or clear) the kill switch flag in the execution journal, the way another process
    would: the live executor re-reads it before each episode and cancels nothing by itself."""
    path = _execution_journal(bot)
    if path is None:
        return ""
    try:
        journal = SqliteJournal(path)
        try:
            journal.set_flag(KILL_FLAG, reason)
        finally:
            journal.close()
    except JournalError as exc:
        return f"\n⚠️ the kill switch flag could not be written: {exc}"
    return "\nkill switch " + ("engaged" if reason else "cleared") + f" in {path.name}"


def halt(bot: Bot) -> str:
    """The kill switch: open every circuit breaker until /start, and engage the execution
    journal's kill switch flag when the run keeps one (live trading)."""
    found = breakers(bot)
    for b in found:
        b.halted_until = math.inf
    flag = _kill_flag(bot, "/stop from Telegram")
    if not found and not flag:
        return (
            "no circuit_breaker rule in [risk] rules and no execution journal: cannot halt trading from here"
        )
    return "🛑 trading halted until /start" + (": the circuit breaker is open" if found else "") + flag


def resume(bot: Bot) -> str:
    """Close every circuit breaker (after /stop or a loss streak) and clear the kill switch flag."""
    found = breakers(bot)
    for b in found:
        b.halted_until = -math.inf
        b.consecutive_losses = 0
    flag = _kill_flag(bot, None)
    if not found and not flag:
        return "no circuit_breaker rule in [risk] rules and no execution journal: nothing to resume"
    return "▶️ trading resumed" + (": the circuit breaker is closed" if found else "") + flag


def status_text(bot: Bot) -> str:
    """/status: mode, events, books, breaker, faults, sinks."""

    def read() -> str:
        market = bot.ctx.market
        perf = bot.engine.performance
        lines = [
            f"ArBot {bot.ctx.mode.lower()} run {bot.ctx.run_id}",
            f"events {bot.engine.events_processed:,} · opportunities {perf.detected:,} · "
            f"executed {perf.executed:,} · rejected {perf.rejected:,}",
        ]
        for venue in bot.source.venues():
            books = [b for b in list(market) if b.venue == venue]
            live = sum(1 for b in books if market.health(venue, b.symbol) == BookHealth.LIVE)
            lines.append(f"{venue}: {live}/{len(books)} books live")
        lines.append("circuit breaker: " + ("OPEN" if breaker_open(bot) else "closed"))
        faults = bot.engine.faults
        lines.append(f"component faults: {len(faults)}")
        down = [s.name for s in bot.sinks if isinstance(s, BatchingSink) and not s.healthy]
        lines.append("sinks: " + (f"DOWN {', '.join(down)}" if down else "all up"))
        return "\n".join(lines)

    return _retry(read)


def pnl_text(bot: Bot) -> str:
    """/pnl: realised PnL, fees, win rate, drawdown."""

    def read() -> str:
        perf = bot.engine.performance
        win = "n/a" if perf.win_rate is None else f"{perf.win_rate * 100:.1f} %"
        dd_usd, dd = perf.max_drawdown()
        return (
            f"net PnL {perf.pnl:,.2f} USD · fees {perf.fees:,.2f} USD\n"
            f"executed {perf.executed:,} · win rate {win}\n"
            f"max drawdown {dd_usd:,.2f} USD ({dd * 100:.3f} %)"
        )

    return _retry(read)


def balance_text(bot: Bot) -> str:
    """/balance: every non-zero balance with its USD value, and the exposure."""

    def read() -> str:
        pf = bot.ctx.portfolio
        lines = []
        for (venue, asset), qty in sorted(dict(pf.balances).items()):
            if qty == 0.0:
                continue
            price = pf.usd_price(asset)
            usd = f" ≈ {qty * price:,.0f} USD" if price == price else ""
            lines.append(f"{venue} {asset} {qty:,.6g}{usd}")
        lines.append(
            f"total ≈ {pf.value_usd():,.0f} USD · exposure {pf.inventory_change_usd():,.0f} USD · "
            f"residual {pf.net_position_usd():,.0f} USD"
        )
        return "\n".join(lines)

    return _retry(read)
