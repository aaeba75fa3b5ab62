"""The generic ccxt connector: any ccxt.pro exchange by id, as an ArBot :class:`Connector`.

ccxt.pro keeps each venue's order book itself (snapshot acquisition, sequence and checksum
checks); this connector watches ``watch_order_book`` / ``watch_trades`` per symbol, turns each
new state of ccxt's book into an ArBot :class:`BookUpdate` (a snapshot when the book was
(re)built, else the levels that changed), applies it to ``ctx.market`` and keeps the book's
health. ccxt's own errors become ArBot's counters: a ccxt ``InvalidNonce`` is a sequence gap,
a ``ChecksumError`` a checksum failure (or a gap for the exchanges whose ccxt code raises it for
a sequence break, such as Binance), a lost connection a reconnect; each clears the book and
resyncs that symbol, so no level of the old book survives.

Frames ccxt cannot decode (binary junk, text that is neither JSON nor a known heartbeat word)
or that make its handler raise are counted as ``garbage_frames`` and dropped *before* they
reach ccxt (in ccxt 4.5 such a frame raises inside its receive callback and silently stops the
connection's receive loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import ccxt
import ccxt.pro
from arbot.components import BotContext, Connector, MarketEvent
from arbot.config import ComponentSettings
from arbot.errors import ArbotError, ConfigError
from arbot.events import BookUpdate, Side, TradeTick
from arbot.market import BookHealth, MarketInfo
from arbot.trading.gateway import TradingGateway
from arbot.trading.signing import ApiCredentials
from pydantic import Field, SecretStr, model_validator

from arbot_ccxt.markets import market_info

__all__ = ["GAP_AS_CHECKSUM_ERROR", "CcxtConnector", "CcxtSettings", "book_changes"]

log = logging.getLogger("arbot_ccxt")

#: Exchanges whose ccxt.pro order-book code raises ``ChecksumError`` when the update ids are
#: not contiguous (a sequence gap) although the venue sends no checksum (ccxt 4.5:
#: ``pro/binance.py`` ``handle_order_book``: ``U - 1 != nonce`` -> ``ChecksumError``).
GAP_AS_CHECKSUM_ERROR: frozenset[str] = frozenset(
    {"binance", "binanceus", "binanceusdm", "binancecoinm"}
)


class CcxtSettings(ComponentSettings):
    """Settings of the ccxt connector (``[connectors.ccxt]``).

    Credentials default to ``$<EXCHANGE_ID>_API_KEY``, ``$<EXCHANGE_ID>_API_SECRET`` and
    ``$<EXCHANGE_ID>_PASSPHRASE`` (upper case), as in the TRD's ``.env``.
    """

    exchange_id: str = Field(..., description="ccxt.pro exchange id (binance, kraken, okx...)")
    venue: str | None = Field(None, description="venue name in events (default: exchange_id)")
    options: dict[str, Any] = Field(default_factory=dict, description="ccxt `options`")
    urls: dict[str, Any] = Field(
        default_factory=dict, description="deep-merged into the exchange's ccxt `urls`"
    )
    config: dict[str, Any] = Field(
        default_factory=dict, description="extra ccxt constructor settings (timeout...)"
    )
    api_key: SecretStr = Field(
        SecretStr(""),
        description=(
            "API key for trading through ccxt (or `<EXCHANGE>_API_KEY` in the environment); never "
            "shown."
        ),
    )
    api_secret: SecretStr = Field(
        SecretStr(""),
        description="API secret (or `<EXCHANGE>_API_SECRET`); never shown.",
    )
    passphrase: SecretStr = Field(
        SecretStr(""),
        description="API passphrase where the exchange has one (or `<EXCHANGE>_PASSPHRASE`); never shown.",
    )
    book_limit: int | None = Field(None, ge=1, description="ccxt watch_order_book limit")
    confirm_snapshot: bool = Field(
        True, description="go live only once ccxt applied an update on top of its snapshot"
    )
    checksum_error_means_gap: bool | None = Field(
        None, description="count ccxt ChecksumError as a gap (None: known exchanges)"
    )
    text_frames: list[str] = Field(
        default_factory=lambda: ["ping", "pong"],
        description="non-JSON text frames passed to ccxt (heartbeats); other text is garbage",
    )
    market_types: list[str] | None = Field(
        None, description="ccxt market types load_markets returns (None: all)"
    )
    default_taker_fee: float = Field(
        0.001, ge=0.0,
        description="Taker fee rate used when ccxt's market data gives none.",
    )
    default_maker_fee: float = Field(
        0.001,
        description="Maker fee rate used when ccxt's market data gives none (may be negative for rebates).",
    )
    retry_delay: float = Field(0.25, gt=0, description="first delay before re-watching")
    retry_delay_max: float = Field(
        10.0, gt=0,
        description="Longest pause in seconds between reconnect attempts (the back-off doubles up to this).",
    )

    @model_validator(mode="after")
    def _credentials_from_env(self) -> CcxtSettings:
        prefix = self.exchange_id.upper()
        for field, suffix in (("api_key", "API_KEY"), ("api_secret", "API_SECRET"),
                              ("passphrase", "PASSPHRASE")):
            if not getattr(self, field).get_secret_value():
                value = os.environ.get(f"{prefix}_{suffix}", "")
                if value:
                    object.__setattr__(self, field, SecretStr(value))
        return self

    @property
    def has_credentials(self) -> bool:
        """True when an API key and secret are configured."""
        return bool(self.api_key.get_secret_value() and self.api_secret.get_secret_value())


def book_changes(prev: dict[float, float], levels: Sequence[Sequence[float]]
                 ) -> tuple[list[tuple[float, float]], dict[float, float]]:
    """Levels that differ between ``prev`` (price -> quantity) and ccxt's ``levels``.

    Returns the changes (a quantity of 0.0 removes a level) and the new price -> quantity map.
    """
    now: dict[float, float] = {}
    for level in levels:
        now[float(level[0])] = float(level[1])
    changes = [(p, q) for p, q in now.items() if prev.get(p) != q]
    changes.extend((p, 0.0) for p in prev if p not in now)
    return changes, now


class _BookState:
    """Where one symbol's book is: waiting for ccxt's snapshot, confirming it, or live."""

    __slots__ = ("asks", "bids", "live", "seen")

    def __init__(self) -> None:
        self.seen = 0
        self.live = False
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}

    def reset(self) -> None:
        """Forget the book (ccxt rebuilds it from a new snapshot)."""
        self.seen = 0
        self.live = False
        self.bids = {}
        self.asks = {}


def _exchange_class(base: type[Any], connector: CcxtConnector) -> type[Any]:
    """``base`` (a ccxt.pro exchange class) with ArBot's frame guard and connection hooks."""

    class Guarded(base):  # type: ignore[misc]
        def client(self, url: str) -> Any:
            known = bool(self.clients) and url in self.clients
            c = super().client(url)
            if not known:
                connector._guard_client(c)
            return c

        def handle_message(self, client: Any, message: Any) -> Any:
            if not connector._admit(message):
                return None
            try:
                return super().handle_message(client, message)
            except Exception as exc:
                connector._handler_error(exc)
                return None

        def on_error(self, client: Any, error: Any) -> Any:
            connector._connection_lost(client)
            return super().on_error(client, error)

        def on_close(self, client: Any, error: Any) -> Any:
            connector._connection_lost(client)
            return super().on_close(client, error)

    Guarded.__name__ = base.__name__
    Guarded.__qualname__ = base.__qualname__
    return Guarded


class CcxtConnector(Connector):
    """Any ccxt.pro exchange: books, trades, market metadata and (with keys) trading."""

    name: ClassVar[str] = "ccxt"
    Settings: ClassVar[type[ComponentSettings]] = CcxtSettings
    description: ClassVar[str] = "generic fallback: any ccxt.pro exchange by id"

    def __init__(self, settings: Any, ctx: BotContext,
                 on_event: Callable[[MarketEvent], None] | None = None) -> None:
        super().__init__(settings, ctx, on_event)
        s: CcxtSettings = settings
        if s.exchange_id not in ccxt.pro.exchanges:
            raise ConfigError(f"ccxt.pro has no exchange {s.exchange_id!r}")
        self.venue: str = s.venue or s.exchange_id
        config: dict[str, Any] = {"enableRateLimit": True, "options": dict(s.options)}
        config.update(s.config)
        if s.api_key.get_secret_value():
            config["apiKey"] = s.api_key.get_secret_value()
        if s.api_secret.get_secret_value():
            config["secret"] = s.api_secret.get_secret_value()
        if s.passphrase.get_secret_value():
            config["password"] = s.passphrase.get_secret_value()
        cls = _exchange_class(getattr(ccxt.pro, s.exchange_id), self)
        self.exchange: Any = cls(config)
        if s.urls:
            self.exchange.urls = self.exchange.deep_extend(self.exchange.urls, s.urls)
        if s.checksum_error_means_gap is None:
            self._checksum_is_gap = s.exchange_id in GAP_AS_CHECKSUM_ERROR
        else:
            self._checksum_is_gap = s.checksum_error_means_gap
        self._text_frames = frozenset(s.text_frames)
        self._counts: Counter[str] = Counter()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._books: dict[str, _BookState] = {}
        self._stopping = asyncio.Event()
        self._markets_loaded = False

    # -- ccxt hooks (called from the exchange subclass) ----------------------------------------

    def _guard_client(self, client: Any) -> None:
        """Wrap a new ccxt client's frame handler: a frame it cannot decode is garbage."""
        inner = client.handle_message

        def guarded(message: Any) -> None:
            try:
                inner(message)
            except Exception:
                self._counts["garbage_frames"] += 1

        client.handle_message = guarded

    def _admit(self, message: Any) -> bool:
        """False (and counted) for a decoded frame that is no venue message."""
        if isinstance(message, dict | list):
            return True
        if isinstance(message, str) and message.strip() in self._text_frames:
            return True
        self._counts["garbage_frames"] += 1
        return False

    def _handler_error(self, exc: Exception) -> None:
        self._counts["garbage_frames"] += 1
        self._counts["handler_errors"] += 1
        log.debug("ccxt handler failed on a frame: %r", exc)

    def _connection_lost(self, client: Any) -> None:
        if self._stopping.is_set() or getattr(client, "_arbot_lost", False):
            return
        client._arbot_lost = True
        if getattr(client, "isConnected", False):
            self._counts["reconnects"] += 1
        else:
            self._counts["connect_failures"] += 1

    # -- lifecycle -----------------------------------------------------------------------------

    async def load_markets(self) -> list[MarketInfo]:
        """Every ccxt market (of ``market_types`` when set) as :class:`MarketInfo`."""
        s: CcxtSettings = self.settings
        markets = await self.exchange.load_markets()
        self._markets_loaded = True
        mode = int(self.exchange.precisionMode)
        out = []
        for m in markets.values():
            if s.market_types is not None and m.get("type") not in s.market_types:
                continue
            out.append(market_info(self.venue, m, mode, s.default_taker_fee, s.default_maker_fee))
        return out

    async def connect(self) -> None:
        """ccxt opens its WebSocket connections on the first watch; markets are loaded here."""
        self._stopping.clear()
        if not self._markets_loaded:
            await self.exchange.load_markets()
            self._markets_loaded = True

    async def subscribe_orderbook(self, symbols: list[str], depth: int = 10) -> None:
        """Watch the books of ``symbols`` (``depth`` is ignored: the book holds what ccxt keeps,
        ``book_limit`` levels when set)."""
        for sym in symbols:
            key = f"book:{sym}"
            if key in self._tasks:
                continue
            self.ctx.market.book(self.venue, sym)
            self.ctx.market.set_health(self.venue, sym, BookHealth.SYNCING)
            self._books[sym] = _BookState()
            self._tasks[key] = asyncio.create_task(self._book_loop(sym), name=f"ccxt-{key}")

    async def subscribe_trades(self, symbols: list[str]) -> None:
        """Watch the public trades of ``symbols``."""
        for sym in symbols:
            key = f"trades:{sym}"
            if key not in self._tasks:
                self._tasks[key] = asyncio.create_task(self._trade_loop(sym), name=f"ccxt-{key}")

    async def close(self) -> None:
        """Stop watching and close ccxt's connections and HTTP session."""
        self._stopping.set()
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.exchange.close()
        for sym in self._books:
            if self.ctx.market.health(self.venue, sym) == BookHealth.LIVE:
                self.ctx.market.set_health(self.venue, sym, BookHealth.STALE)

    def stats(self) -> dict[str, int]:
        """Counters: reconnects, resyncs (total and ``resyncs:<symbol>``), gaps, checksum
        failures, garbage frames, errors, events."""
        out = dict.fromkeys(("reconnects", "resyncs", "gaps", "checksum_failures",
                             "garbage_frames"), 0)
        out.update(self._counts)
        return out

    # -- books ---------------------------------------------------------------------------------

    def _emit(self, ev: MarketEvent) -> None:
        if self.on_event is not None:
            self.on_event(ev)

    async def _book_loop(self, symbol: str) -> None:
        s: CcxtSettings = self.settings
        delay = s.retry_delay
        while not self._stopping.is_set():
            try:
                ob = await self.exchange.watch_order_book(symbol, s.book_limit)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping.is_set():
                    return
                self._book_failed(symbol, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2.0, s.retry_delay_max)
                continue
            delay = s.retry_delay
            self._on_book(symbol, ob)

    def _book_failed(self, symbol: str, exc: Exception) -> None:
        """ccxt gave up on the book: count why, clear it (no ghost level), resync."""
        if isinstance(exc, ccxt.ChecksumError):
            self._counts["gaps" if self._checksum_is_gap else "checksum_failures"] += 1
        elif isinstance(exc, ccxt.InvalidNonce):
            self._counts["gaps"] += 1
        elif isinstance(exc, ccxt.NetworkError):
            self._counts["network_errors"] += 1
        else:
            self._counts["errors"] += 1
            log.warning("ccxt %s order book %s failed: %r", self.venue, symbol, exc)
        self._counts["resyncs"] += 1
        self._counts[f"resyncs:{symbol}"] += 1
        self._books[symbol].reset()
        self.ctx.market.book(self.venue, symbol).clear()
        self.ctx.market.set_health(self.venue, symbol, BookHealth.RESYNCING)

    def _on_book(self, symbol: str, ob: Mapping[str, Any]) -> None:
        """One new state of ccxt's book: a snapshot event when (re)built, else the changes."""
        st = self._books[symbol]
        st.seen += 1
        s: CcxtSettings = self.settings
        if st.seen == 1 and s.confirm_snapshot:
            # ccxt resolves a fresh book right after its snapshot; its continuity check on the
            # first update after it has not run yet: wait for that update before going live.
            return
        ts = self.ctx.clock.now()
        exts = ob.get("timestamp")
        exchange_ts = exts / 1000.0 if exts is not None else None
        book = self.ctx.market.book(self.venue, symbol)
        if not st.live:
            st.live = True
            bids, st.bids = book_changes({}, ob["bids"])
            asks, st.asks = book_changes({}, ob["asks"])
            book.apply_snapshot(bids, asks, ts, exchange_ts)
            self.ctx.market.set_health(self.venue, symbol, BookHealth.LIVE)
            self._counts["snapshots"] += 1
            self._emit(BookUpdate(ts, self.venue, symbol, bids, asks, snapshot=True,
                                  exchange_ts=exchange_ts, applied=True))
            return
        bids, st.bids = book_changes(st.bids, ob["bids"])
        asks, st.asks = book_changes(st.asks, ob["asks"])
        if not bids and not asks:
            return
        book.apply_delta(bids, asks, ts, exchange_ts)
        self._counts["deltas"] += 1
        self._emit(BookUpdate(ts, self.venue, symbol, bids, asks, exchange_ts=exchange_ts,
                              applied=True))

    # -- trades --------------------------------------------------------------------------------

    async def _trade_loop(self, symbol: str) -> None:
        s: CcxtSettings = self.settings
        delay = s.retry_delay
        while not self._stopping.is_set():
            try:
                trades = await self.exchange.watch_trades(symbol)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping.is_set():
                    return
                self._counts["trade_errors"] += 1
                log.debug("ccxt %s trades %s failed: %r", self.venue, symbol, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2.0, s.retry_delay_max)
                continue
            delay = s.retry_delay
            ts = self.ctx.clock.now()
            for t in trades:
                side = t.get("side")
                price, amount = t.get("price"), t.get("amount")
                if side not in ("buy", "sell") or not price or not amount:
                    self._counts["trades_skipped"] += 1
                    continue
                exts = t.get("timestamp")
                self._emit(TradeTick(ts, self.venue, symbol, float(price), float(amount),
                                     Side.BUY if side == "buy" else Side.SELL,
                                     exts / 1000.0 if exts is not None else None))

    # -- trading -------------------------------------------------------------------------------

    @classmethod
    def trading_gateway(cls, settings: ComponentSettings, credentials: ApiCredentials) -> TradingGateway:
        """A :class:`~arbot_ccxt.trading.CcxtTradingGateway` for the settings' exchange, with the
        same ``options``, ``urls`` and ``config`` as the market data."""
        from arbot_ccxt.trading import CcxtTradingGateway

        if not isinstance(settings, CcxtSettings):
            raise TypeError(f"ccxt trading gateway needs CcxtSettings, got {type(settings).__name__}")
        return CcxtTradingGateway.create(
            settings.venue or settings.exchange_id,
            settings.exchange_id,
            credentials,
            options=settings.options,
            urls=settings.urls,
            config=settings.config,
        )

    def _require_keys(self) -> bool:
        s: CcxtSettings = self.settings
        return s.has_credentials

    async def place_order(self, symbol: str, side: Side, order_type: str, quantity: float,
                          price: float | None = None) -> dict[str, Any]:
        """Place an order through ccxt ``create_order``; returns ccxt's order structure."""
        if not self._require_keys():
            return await super().place_order(symbol, side, order_type, quantity, price)
        order: dict[str, Any] = await self.exchange.create_order(
            symbol, order_type.lower(), str(side).lower(), quantity, price)
        return order

    async def cancel_order(self, symbol: str, order_id: str) -> bool:
        """Cancel an order through ccxt ``cancel_order``."""
        if not self._require_keys():
            return await super().cancel_order(symbol, order_id)
        await self.exchange.cancel_order(order_id, symbol)
        return True

    async def get_balances(self) -> dict[str, float]:
        """Free balance per asset (ccxt ``fetch_balance``), zero balances left out."""
        if not self._require_keys():
            return await super().get_balances()
        bal = await self.exchange.fetch_balance()
        free = bal.get("free") or {}
        return {asset: float(v) for asset, v in free.items() if v}

    async def get_withdrawal_fee(self, asset: str, network: str) -> float:
        """Withdrawal fee of ``asset`` on ``network`` (ccxt ``fetch_deposit_withdraw_fees``,
        else the currency's network metadata)."""
        if not self._require_keys():
            return await super().get_withdrawal_fee(asset, network)
        ex = self.exchange
        names = {network.upper()}
        for convert in (ex.network_id_to_code, ex.network_code_to_id):
            with contextlib.suppress(Exception):
                names.add(str(convert(network.upper(), asset)).upper())
        if ex.has.get("fetchDepositWithdrawFees"):
            fees = await ex.fetch_deposit_withdraw_fees([asset])
            fee = _network_fee((fees.get(asset) or {}).get("networks") or {}, names,
                               lambda n: (n.get("withdraw") or {}).get("fee"))
            if fee is not None:
                return fee
        currencies = await ex.fetch_currencies() if ex.has.get("fetchCurrencies") else {}
        cur = (currencies or {}).get(asset) or {}
        fee = _network_fee(cur.get("networks") or {}, names, lambda n: n.get("fee"))
        if fee is None:
            raise ArbotError(f"{self.venue}: no withdrawal fee known for {asset} on {network}")
        return fee


def _network_fee(networks: Mapping[str, Any], names: set[str],
                 pick: Callable[[Mapping[str, Any]], Any]) -> float | None:
    """The fee of the network called one of ``names`` (upper case: the venue's network id or
    ccxt's unified code, e.g. ``TRX`` / ``TRC20``), matched on the key or its ``network`` /
    ``id`` fields."""
    for key, info in networks.items():
        if not isinstance(info, Mapping):
            continue
        ids = {str(key).upper(), str(info.get("network") or "").upper(),
               str(info.get("id") or "").upper()}
        if names & ids:
            value = pick(info)
            return float(value) if value is not None else None
    return None
