"""What the KuCoin, Gate, Upbit and Bithumb emulated private APIs share beyond
:mod:`arbot.testing.emulator.private`.

* :func:`scripted_exchange` — an :class:`EmulatedExchange` trading a venue emulator's scripted
  books, with one funded test account;
* :func:`pump_feed` — forward an account's :class:`EventFeed` to a WebSocket client with
  synchronous renderers, and fire the STREAM_DROP fault itself (checked every 50 ms: the
  socket is cut without a close frame).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from arbot.testing.emulator.exchange import EmulatedExchange, EventFeed, FeedDropped, ScriptedBookSource
from arbot.testing.emulator.exchange_models import Account, ExchangeEvent, FeeAsset, MarketRules
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.testing.emulator.server import EmulatorClient

__all__ = ["DEFAULT_FUNDS", "pump_feed", "scripted_exchange"]

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
    client_id_scope: Literal["open", "all"] = "open",
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
