"""Pieces every venue's emulated private API shares, on top of :class:`EmulatedExchange`.

* :func:`decimal_str` — an amount as the venue writes it (fixed decimals, or plain);
* :func:`drop_response` — end an HTTP exchange without an answer (the ACK_LOST fault);
* :func:`pump_events` — forward one account's exchange events to a WebSocket client until the
  stream is dropped (then cut the socket, as a venue's private stream dies);
* :func:`verify_window` — the venues' timestamp rule (not older than the window, not ahead);
* :func:`hmac_sha256` — the emulators' own HMAC (they do not use the connectors' signers);
* :class:`AccountBook` — the accounts and matching of a venue's private API: ``create_account``
  and ``on_tick`` over its :class:`EmulatedExchange`;
* :func:`scripted_exchange` — an :class:`EmulatedExchange` trading a venue emulator's scripted
  books, with one funded test account;
* :func:`pump_feed` — like :func:`pump_events` for venues whose stream pump fires the
  STREAM_DROP fault itself (checked every 50 ms: the socket is cut without a close frame).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

from aiohttp import web

from arbot.testing.emulator.exchange import EmulatedExchange, EventFeed, FeedDropped, ScriptedBookSource
from arbot.testing.emulator.exchange_models import (
    Account,
    ExchangeError,
    ExchangeEvent,
    ExchangeReject,
    FeeAsset,
    MarketRules,
    NetworkSpec,
    RejectReason,
    Transfer,
)
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.testing.emulator.server import EmulatorClient

__all__ = [
    "DEFAULT_FUNDS",
    "AccountBook",
    "WithdrawForbidden",
    "decimal_str",
    "drop_response",
    "hmac_sha256",
    "pump_events",
    "pump_feed",
    "scripted_exchange",
    "verify_window",
]


class WithdrawForbidden(ExchangeError):
    """The API key has no withdrawal rights (each venue answers its own permission error)."""


def decimal_str(value: Decimal | None, places: int | None = None) -> str:
    """``value`` with ``places`` decimals (Binance's ``"0.00100000"``), or plain (``"0.001"``)
    when ``places`` is None; ``""`` for None."""
    if value is None:
        return ""
    if places is not None:
        return f"{value:.{places}f}"
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def drop_response(request: web.Request) -> web.Response:
    """Cut the connection without answering (the client sees the connection drop)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=500)


def hmac_sha256(secret: str, message: str, encoding: str = "hex") -> str:
    """HMAC-SHA256 of ``message`` keyed by ``secret``, as ``hex`` or ``base64``."""
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def verify_window(ts_ms: int, server_ms: int, window_ms: int, ahead_ms: int = 1000) -> str | None:
    """None when ``ts_ms`` is inside ``[server - window, server + ahead)``, else "behind" or
    "ahead"."""
    if ts_ms >= server_ms + ahead_ms:
        return "ahead"
    if server_ms - ts_ms > window_ms:
        return "behind"
    return None


async def pump_events(
    feed: EventFeed,
    client: EmulatorClient,
    render: Callable[[ExchangeEvent], Awaitable[list[bytes]]],
) -> None:
    """Send each event of ``feed`` (rendered into venue frames) to ``client`` until the feed is
    dropped or the client leaves; a dropped feed aborts the socket (no close frame)."""
    try:
        while True:
            event = await feed.get()
            for frame in await render(event):
                if not await client.send(frame):
                    return
    except FeedDropped:
        client.abort()
    except asyncio.CancelledError:
        raise
    finally:
        with contextlib.suppress(Exception):
            feed.close()


#: What the default test account starts with (per asset; quote assets get more).
DEFAULT_FUNDS: Mapping[str, str] = {
    "BTC": "10",
    "ETH": "100",
    "USDT": "1000000",
    "USDC": "1000000",
    "KRW": "10000000000",
}


def scripted_exchange(
    venue: str,
    books: Mapping[str, tuple[ScriptedBook, MarketRules]],
    *,
    fee_asset: FeeAsset = FeeAsset.RECEIVED,
    client_id_scope: Literal["open", "all", "none"] = "open",
    funds: Mapping[str, str] | None = None,
    api_key: str | None = None,
    secret: str | None = None,
    passphrase: str | None = None,
) -> tuple[EmulatedExchange, Account]:
    """An exchange over ``books`` (venue symbol -> (book, rules)) and one funded account."""
    exchange = EmulatedExchange(venue, fee_asset=fee_asset, client_id_scope=client_id_scope)
    for _vs, (book, rules) in books.items():
        exchange.add_market(rules, ScriptedBookSource(book))
    assets = {a for _b, r in books.values() for a in (r.base, r.quote)}
    pool = dict(DEFAULT_FUNDS if funds is None else funds)
    start = {a: pool.get(a, "1000") for a in sorted(assets)} if funds is None else pool
    account = exchange.create_account(start, api_key=api_key, secret=secret, passphrase=passphrase)
    return exchange, account


async def pump_feed(
    exchange: EmulatedExchange,
    feed: EventFeed,
    client: EmulatorClient,
    render: Callable[[ExchangeEvent], Awaitable[list[str]] | list[str]],
) -> None:
    """Send ``render(event)`` frames of every event of ``feed`` to ``client`` until the feed is
    dropped (then the socket is cut: a private-stream drop) or the client leaves."""
    get: asyncio.Future[ExchangeEvent] | None = None
    try:
        while True:
            if get is None:
                get = asyncio.ensure_future(feed.get())
            done, _ = await asyncio.wait({get}, timeout=0.05)
            if not done:
                if exchange.take_stream_drop():  # the feed is dropped: the socket is cut
                    client.abort()
                    return
                continue
            event = get.result()
            get = None
            frames = render(event)
            if not isinstance(frames, list):
                frames = await frames
            for frame in frames:
                if not await client.send(frame):
                    return
    except FeedDropped:
        client.abort()
    finally:
        feed.close()
        if get is not None:
            get.cancel()
            with contextlib.suppress(BaseException):
                await get


class AccountBook:
    """The accounts and matching of a venue emulator's private API (a base class): funded
    accounts on :attr:`exchange`, and the step that fills resting orders the book crossed."""

    exchange: EmulatedExchange
    #: True where every key has a passphrase (OKX, Bitget, KuCoin): a random one unless given.
    needs_passphrase: bool = False
    #: True where :meth:`on_tick` applies a pending STREAM_DROP (the venues whose stream pump,
    #: :func:`pump_events`, waits for the exchange to drop the feed); False where
    #: :func:`pump_feed` polls for the drop itself.
    drops_stream_on_tick: bool = True

    def add_books(
        self, books: Mapping[str, tuple[str, ScriptedBook]], rules: Mapping[str, Decimal]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Each scripted book of ``books`` (venue symbol -> (unified symbol, book)) as a market of
        :attr:`exchange` with the venue's ``rules`` (``tick``, ``step``, ``min_qty``,
        ``min_notional``); returns (venue symbol -> unified, unified -> venue symbol)."""
        by_venue: dict[str, str] = {}
        by_unified: dict[str, str] = {}
        for vs, (unified, book) in books.items():
            base, _, quote = unified.partition("/")
            self.exchange.add_market(MarketRules(unified, base, quote, **rules), ScriptedBookSource(book))
            by_venue[vs] = unified
            by_unified[unified] = vs
        return by_venue, by_unified

    def add_networks(self, rows: Iterable[tuple[str, str, str, str]], confirm_seconds: float = 1.0) -> None:
        """Deposit/withdrawal networks of :attr:`exchange`: (asset, network, fee, minimum) rows."""
        for asset, net, fee, minimum in rows:
            self.exchange.add_network(
                NetworkSpec(asset, net, Decimal(fee), Decimal(minimum), confirm_seconds=confirm_seconds)
            )

    @property
    def withdraw_keys(self) -> set[str]:
        """API keys with withdrawal rights (the exchange's set: grant one with ``add``)."""
        return self.exchange.withdraw_keys

    def withdraw_for(
        self, account: Account, asset: str, network: str, amount: Decimal, address: str
    ) -> Transfer:
        """A withdrawal by ``account``'s key: :class:`WithdrawForbidden` unless the key has
        withdrawal rights; then the exchange's checks (network, minimum, balance)."""
        if account.api_key not in self.exchange.withdraw_keys:
            raise WithdrawForbidden(f"{self.exchange.venue}: this API key cannot withdraw")
        if not address:
            raise ExchangeReject(RejectReason.INVALID_REQUEST, "an address is required")
        return self.exchange.withdraw(account.api_key, asset, network, amount, address)

    def transfers_of(self, account: Account, kind: str, asset: str | None = None) -> list[Transfer]:
        """The account's deposits or withdrawals (of one asset), newest first."""
        return [
            t
            for t in reversed(self.exchange.transfer_history(account.api_key, kind))
            if asset is None or t.asset == asset
        ]

    def find_withdrawal(self, account: Account, transfer_id: str) -> Transfer:
        """One withdrawal of the account by id; ORDER_NOT_FOUND otherwise."""
        for t in self.exchange.transfer_history(account.api_key, "withdrawal"):
            if str(t.transfer_id) == transfer_id:
                return t
        raise ExchangeReject(RejectReason.ORDER_NOT_FOUND, f"withdrawal {transfer_id}")

    def server_time_ms(self) -> int:
        """The exchange clock in ms (with any injected skew)."""
        return int(self.exchange.server_time() * 1000)

    def create_account(self, balances: Mapping[str, object], **kwargs: Any) -> Account:
        """A funded account (``kwargs`` as :meth:`EmulatedExchange.create_account` takes them)."""
        if self.needs_passphrase:
            kwargs.setdefault("passphrase", "Pp" + secrets.token_hex(6))
        return self.exchange.create_account(balances, **kwargs)

    def on_tick(self) -> None:
        """After each book step: fill resting orders the book crossed (and apply a stream drop
        where :attr:`drops_stream_on_tick`)."""
        self.exchange.match()
        if self.drops_stream_on_tick:
            self.exchange.take_stream_drop()
