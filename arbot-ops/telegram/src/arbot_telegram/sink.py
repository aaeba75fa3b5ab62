"""The ``telegram`` sink: alerts to the configured chats, commands from them.

Enabled by ``[alerts.telegram] enabled = true``; thresholds come from ``[alerts.thresholds]``.
The engine only appends events to the sink's buffer; the sink's writer thread turns them into
pending alerts, and a thread of its own runs the Telegram client (python-telegram-bot) on an
event loop: every ``batch_window_s`` it sends the pending alerts as one message per chat, at most
one message per chat every ``min_interval_s``, waiting out a 429's ``retry_after``; it long-polls
``getUpdates`` for commands and checks the bot's health every ``watch_interval_s``.

Commands are obeyed only from ``chat_ids``; others are counted and ignored, and commands sent
before the bot started are dropped (a stale /stop must not halt a new run). ``/stop`` is the
kill switch: it opens the circuit breaker until ``/start``.

The token is a ``SecretStr``; the HTTP client's log lines (which carry the request URL, and so
the token) pass through a filter that masks it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import telegram
from arbot.bot import Bot
from arbot.components import BotContext
from arbot.config import ComponentSettings
from arbot.errors import ConfigError
from arbot.events import DailyPerformance, ExecutionReport, FillStatus, SignalRecord, SignalStatus
from arbot.execution.events import Alert as ExecAlert
from arbot.execution.events import KillSwitchChanged, ResidualExposure
from arbot.redaction import MASK
from arbot.sinks.base import BatchingSink, RunInfo
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from arbot_telegram.alerts import AlertBatch
from arbot_telegram.settings import TOKEN_ENV, TelegramSettings
from arbot_telegram.status import balance_text, halt, pnl_text, resume, status_text
from arbot_telegram.watch import HealthWatch

__all__ = ["TelegramSink"]

log = logging.getLogger("arbot.telegram")
#: Logger name prefixes of the client libraries, which may print request URLs (carrying the token).
_CLIENT_LOGGERS = ("httpx", "httpcore", "telegram")


def _client_loggers() -> list[logging.Logger]:
    """Every logger of the client libraries (a filter on a parent does not see its children's records)."""
    names = {n for n in logging.root.manager.loggerDict if n.split(".")[0] in _CLIENT_LOGGERS}
    names.update(_CLIENT_LOGGERS)
    return [logging.getLogger(n) for n in sorted(names)]


class _MaskToken(logging.Filter):
    """Replaces the token in every record of the HTTP client's loggers."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, MASK), ()
        return True


def token_from_keystore(name: str) -> str:
    """The bot token kept in ArBot's encrypted key store as the API key of ``telegram/<name>``
    ("" when no store or master key is configured, or the store has no such record)."""
    from arbot.keystore import KeyStore, KeyStoreError, default_store_path, master_key_from_env

    path = default_store_path()
    if not path.exists() or not (
        os.environ.get("ARBOT_MASTER_KEY") or os.environ.get("ARBOT_MASTER_KEY_FILE")
    ):
        return ""
    store = KeyStore.open(path, master_key_from_env())  # a wrong master key is an error, named
    try:
        return store.get("telegram", name).api_key
    except KeyStoreError:
        return ""


def diverged_legs(report: ExecutionReport, tolerance: float) -> str | None:
    """A description of the legs of ``report`` that filled unequal fractions of what they asked
    (one leg filled, its hedge did not), None when they agree within ``tolerance``."""
    fractions = [f.filled_qty / f.requested_qty if f.requested_qty > 0 else 0.0 for f in report.fills]
    if len(fractions) < 2 or max(fractions) - min(fractions) <= tolerance:
        return None
    return ", ".join(
        f"{f.venue} {f.side.value} {f.symbol} {frac * 100:.0f} % filled"
        for f, frac in zip(report.fills, fractions, strict=True)
    )


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class TelegramSink(BatchingSink[TelegramSettings]):
    """Telegram alerts and commands."""

    name: ClassVar[str] = "telegram"
    description: ClassVar[str] = (
        "Telegram alerts (batched, rate-limited) and /status /pnl /balance /stop /start"
    )
    Settings: ClassVar[type[ComponentSettings]] = TelegramSettings
    config_section: ClassVar[str | None] = "alerts.telegram"

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        token = settings.token.get_secret_value() or token_from_keystore(settings.keystore_name)
        if not token:
            raise ConfigError(
                f"[alerts.telegram] needs a bot token: set ${TOKEN_ENV}, or store it in the key store as "
                f"telegram/{settings.keystore_name} (its API key)"
            )
        if not settings.chat_ids:
            raise ConfigError("[alerts.telegram] chat_ids is empty: list the chats that receive alerts")
        self._token = token
        self.thresholds = ctx.config.alerts.thresholds
        self.alerts = AlertBatch(settings.max_lines)
        self._bot: Bot | None = None
        self._health: HealthWatch | None = None
        self._client_thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Event | None = None
        self._last_sent: dict[int, float] = {}
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._offset = 0
        self._started_at = time.time()
        self._mask = _MaskToken(token)
        self._masked: list[logging.Logger] = []
        self.replies: list[str] = []
        #: Why the Telegram client stopped (None while it runs); the bot itself runs on.
        self.client_error: str | None = None

    def attach(self, bot: Bot) -> None:
        """Answer commands about ``bot`` and watch its health (the plugin's ``arbot_started``)."""
        self._bot = bot

    # -- events -> alerts (writer thread) ----------------------------------------------------

    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        """Queue the alerts the batch's events call for."""
        th = self.thresholds
        for ev in batch:
            if isinstance(ev, SignalRecord):
                opp = ev.opportunity
                if opp.net_spread_pct >= th.opportunity_min_pct and ev.status is not SignalStatus.REJECTED:
                    route = f"{opp.buy_venue or '?'}→{opp.sell_venue or '?'}"
                    self.alerts.add(
                        "info",
                        f"{opp.strategy} {opp.symbol} {route} net {opp.net_spread_pct:.2f} % "
                        f"(≥ {th.opportunity_min_pct:g} %) {ev.status.value.lower()}",
                        key=f"opp:{opp.strategy}:{opp.symbol}:{route}:{ev.status.value}",
                    )
            elif isinstance(ev, ExecutionReport) and th.error_alert:
                failed = [f for f in ev.fills if f.status is FillStatus.FAILED]
                if failed:
                    legs = ", ".join(f"{f.venue} {f.side.value} {f.symbol}" for f in failed)
                    self.alerts.add(
                        "warning", f"order failed: {legs} ({ev.reason or 'no reason'})", key=f"failed:{legs}"
                    )
                diverged = diverged_legs(ev, self.settings.leg_tolerance)
                if diverged:
                    self.alerts.add(
                        "error",
                        f"legs diverged on {ev.opportunity.id}: {diverged}",
                        key=f"diverged:{ev.opportunity.strategy}",
                    )
            elif isinstance(ev, ExecAlert) and th.error_alert:
                level = "error" if ev.level in ("critical", "error") else "warning"
                self.alerts.add(level, f"execution: {ev.message}", key=f"exec:{ev.message}")
            elif isinstance(ev, ResidualExposure) and th.error_alert:
                self.alerts.add(
                    "error",
                    f"residual exposure: {ev.amount:g} {ev.asset} on {ev.venue} left by episode "
                    f"{ev.episode_id} ({ev.reason})",
                    key=f"residual:{ev.venue}:{ev.asset}",
                )
            elif isinstance(ev, KillSwitchChanged):
                self.alerts.add(
                    "error" if ev.engaged else "info",
                    f"kill switch {'ENGAGED' if ev.engaged else 'cleared'}: {ev.reason}",
                    key="kill_switch",
                )
            elif isinstance(ev, DailyPerformance) and th.daily_pnl_alert:
                self.alerts.add(
                    "info",
                    f"day {ev.date}: net PnL {ev.net_pnl:,.2f} USD, fees {ev.total_fees:,.2f} USD, "
                    f"{ev.executed_trades} trades of {ev.total_signals} signals",
                    key=f"daily:{ev.date}",
                )

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread and the Telegram client thread."""
        self._masked = _client_loggers()
        for logger in self._masked:
            logger.addFilter(self._mask)
        super().start()
        ready = threading.Event()
        self._client_thread = threading.Thread(
            target=self._run_client, args=(ready,), name="arbot-telegram", daemon=True
        )
        self._client_thread.start()
        ready.wait(10)

    def close(self) -> None:
        """Flush events into alerts, send what is pending, stop the client."""
        super().close()
        if self._loop is not None and self._done is not None:
            self._loop.call_soon_threadsafe(self._done.set)
        if self._client_thread is not None:
            self._client_thread.join(timeout=30 + self.settings.poll_timeout_s)
            self._client_thread = None
        for logger in self._masked:
            logger.removeFilter(self._mask)

    # -- client thread ---------------------------------------------------------------------------

    def _run_client(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._done = asyncio.Event()
        ready.set()
        try:
            loop.run_until_complete(self._client())
        except InvalidToken:
            self._failed_client("the Bot API refused the token (401 Unauthorized)")
        except TelegramError as exc:
            self._failed_client(f"{type(exc).__name__}: {str(exc).replace(self._token, MASK)}")
        finally:
            loop.close()

    def _failed_client(self, why: str) -> None:
        self.client_error = why
        self.counters["client_errors"] += 1
        log.error("telegram: %s; no alerts will be sent", why)

    def _watch(self) -> HealthWatch | None:
        """The one health watch of this sink (None until the bot is attached)."""
        if self._health is None and self._bot is not None:
            self._health = HealthWatch(
                self._bot, self.alerts, self.thresholds.error_alert, self.settings.residual_exposure_usd
            )
        return self._health

    async def _client(self) -> None:
        """Connect (getMe), retrying while the Bot API is unreachable; then send and poll until closed."""
        assert self._done is not None
        delay = 0.5
        while True:
            request = HTTPXRequest(connection_pool_size=4, read_timeout=10.0)
            updates = HTTPXRequest(connection_pool_size=1, read_timeout=self.settings.poll_timeout_s + 10.0)
            tg = telegram.Bot(
                self._token, base_url=self.settings.base_url, request=request, get_updates_request=updates
            )
            try:
                await tg.initialize()
            except (NetworkError, TimedOut) as exc:  # InvalidToken is neither: it ends the client
                await request.shutdown()
                await updates.shutdown()
                self.counters["connect_retries"] += 1
                log.warning(
                    "telegram: Bot API unreachable (%s), retrying in %.1f s", type(exc).__name__, delay
                )
                try:
                    await asyncio.wait_for(self._done.wait(), delay)
                except TimeoutError:
                    delay = min(delay * 2, 30.0)
                    continue
                self.counters["undelivered_alerts"] += len(self.alerts)
                return  # closed before the Bot API came back
            try:
                await self._serve(tg)
            finally:
                await tg.shutdown()
            return

    async def _serve(self, tg: telegram.Bot) -> None:
        assert self._done is not None
        tasks = [asyncio.create_task(self._sender(tg))]
        if self.settings.commands:
            tasks.append(asyncio.create_task(self._poller(tg)))
        await self._done.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        watch = self._watch()
        if watch is not None:
            watch.check()
        await self._flush(tg)

    async def _sender(self, tg: telegram.Bot) -> None:
        next_send = time.monotonic() + self.settings.batch_window_s
        while True:
            await asyncio.sleep(min(self.settings.watch_interval_s, self.settings.batch_window_s))
            watch = self._watch()
            if watch is not None:
                watch.check()
            if time.monotonic() >= next_send:
                await self._flush(tg)
                next_send = time.monotonic() + self.settings.batch_window_s

    async def _flush(self, tg: telegram.Bot) -> None:
        text = self.alerts.take(f"ArBot {self.ctx.mode.lower()} · run {self.ctx.run_id}")
        if text is None:
            return
        self.counters["alert_messages"] += 1
        for chat in self.settings.chat_ids:
            await self._send(tg, chat, text)

    async def _send(self, tg: telegram.Bot, chat_id: int, text: str) -> bool:
        """Send one message, keeping the per-chat interval and obeying 429s; True when delivered.

        Alerts and command replies share one lock per chat, so two of them never race past the
        interval together.
        """
        lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            return await self._send_paced(tg, chat_id, text)

    async def _send_paced(self, tg: telegram.Bot, chat_id: int, text: str) -> bool:
        for attempt in range(self.settings.max_retries + 1):
            wait = self._last_sent.get(chat_id, -1e9) + self.settings.min_interval_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                await tg.send_message(chat_id=chat_id, text=text)
            except RetryAfter as exc:
                self.counters["rate_limited"] += 1
                await asyncio.sleep(_seconds(exc))
                continue
            except (TimedOut, NetworkError) as exc:
                self.counters["send_retries"] += 1
                log.warning("telegram: %s, retrying", type(exc).__name__)
                await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
                continue
            except TelegramError as exc:
                self.counters["send_errors"] += 1
                log.error(
                    "telegram: chat %s refused the message: %s", chat_id, str(exc).replace(self._token, MASK)
                )
                return False
            finally:
                self._last_sent[chat_id] = time.monotonic()
            self.counters["messages_sent"] += 1
            return True
        self.counters["send_errors"] += 1
        log.error("telegram: gave up on a message to chat %s after %d attempts", chat_id, attempt + 1)
        return False

    async def _poller(self, tg: telegram.Bot) -> None:
        while True:
            try:
                updates = await tg.get_updates(
                    offset=self._offset or None,
                    timeout=self.settings.poll_timeout_s,
                    allowed_updates=["message"],
                )
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc))
                continue
            except (TimedOut, NetworkError):
                self.counters["poll_retries"] += 1
                await asyncio.sleep(1.0)
                continue
            for update in updates:
                self._offset = update.update_id + 1
                message = update.message
                if message is None or not message.text:
                    continue
                await self._command(tg, message.chat_id, message.text, message.date.timestamp())

    async def _command(self, tg: telegram.Bot, chat_id: int, text: str, sent_at: float) -> None:
        if chat_id not in self.settings.chat_ids:
            self.counters["unauthorized_commands"] += 1
            log.warning("telegram: ignored a command from chat %s (not in chat_ids)", chat_id)
            return
        if sent_at < self._started_at - 1.0:
            self.counters["stale_commands"] += 1
            return
        word = text.strip().split()[0].split("@")[0].lower() if text.strip() else ""
        handlers: dict[str, Callable[[Bot], str]] = {
            "/status": status_text,
            "/pnl": pnl_text,
            "/balance": balance_text,
            "/stop": halt,
            "/start": resume,
        }
        handler = handlers.get(word)
        if handler is None:
            reply = "commands: /status /pnl /balance /stop (halt trading) /start (resume)"
        elif self._bot is None:
            reply = "the bot is starting: ask again in a moment"
        else:
            reply = handler(self._bot)
            self.counters[f"command:{word[1:]}"] += 1
        self.replies.append(reply)
        await self._send(tg, chat_id, reply)
