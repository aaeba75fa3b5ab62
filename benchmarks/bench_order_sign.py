"""Order build + sign + serialize per venue: ArBot's trading gateway vs ccxt ``create_order``.

For each of Binance, OKX, Bybit and Bitget both clients first load markets from the venue's
emulator (real loopback sockets), place one real limit order there, and record the venue's
answer. Then the network is stubbed at the same point for both: ArBot's ``RestClient.request``
and ccxt's ``fetch`` return the recorded answer without sending anything. What is timed is
everything else a client does for one order: checks and rounding, the request parameters, the
timestamp, the signature, the encoded query/body and headers, and reading the answer into an
order. ccxt's own throttle is off (``enableRateLimit=False``); ArBot's limiter is a no-op
stand-in, so neither waits.

Prints the median and p99 per order and the ratio ccxt / ArBot (the issue's goal: >= 10x).

Second table: the round trip of a real IOC order (placed, matched, answered) against each
venue's emulator over loopback sockets, ArBot vs ccxt, p50/p99 (the emulator runs in the same
process and event loop for both clients).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

N = 3000
WARMUP = 300
ROUND_TRIPS = 300


class NoLimit:
    """A limiter that never waits (the bench measures the client, not the budget)."""

    throttled = 0
    waited = 0.0

    async def acquire(self, cost: float = 1.0, endpoint: str | None = None) -> float:
        return 0.0

    def block(self, seconds: float) -> None:
        return None

    def sync_used(self, used: float, endpoint: str | None = None) -> None:
        return None


async def _timed(call: Callable[[int], Awaitable[Any]]) -> list[float]:
    for i in range(WARMUP):
        await call(i)
    out = []
    for i in range(WARMUP, WARMUP + N):
        t0 = time.perf_counter_ns()
        await call(i)
        out.append((time.perf_counter_ns() - t0) / 1000.0)
    return out


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def _classes(venue: str) -> tuple[Any, Any]:
    """(emulator class, gateway class) of ``venue``."""
    if venue == "binance":
        from arbot_binance.emulator import BinanceEmulator
        from arbot_binance.trading import BinanceTradingGateway

        return BinanceEmulator, BinanceTradingGateway
    if venue == "okx":
        from arbot_okx.emulator import OkxEmulator
        from arbot_okx.trading import OkxTradingGateway

        return OkxEmulator, OkxTradingGateway
    if venue == "bybit":
        from arbot_bybit.emulator import BybitEmulator
        from arbot_bybit.trading import BybitTradingGateway

        return BybitEmulator, BybitTradingGateway
    from arbot_bitget.emulator import BitgetEmulator
    from arbot_bitget.trading import BitgetTradingGateway

    return BitgetEmulator, BitgetTradingGateway


def _ccxt(venue: str, url: str, acct: Any) -> Any:
    """ccxt's async client of ``venue`` pointed at the emulator, its throttle off."""
    import ccxt.async_support as ccxt_async

    config: dict[str, Any] = {"apiKey": acct.api_key, "secret": acct.secret, "enableRateLimit": False}
    options: dict[str, Any] = {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False}
    if venue == "binance":
        names = ("public", "private", "v1", "v3", "sapi", "sapiV2", "sapiV3", "sapiV4")
        config["urls"] = {
            "api": {
                n: url
                + (
                    "/api/v3"
                    if n in ("public", "private", "v3")
                    else "/api/v1"
                    if n == "v1"
                    else "/sapi/" + (n[4:].lower() or "v1")
                )
                for n in names
            }
        }
        options["fetchMargins"] = False
    elif venue == "okx":
        config["urls"] = {"api": {"rest": url}}
        config["password"] = acct.passphrase
    elif venue == "bybit":
        config["urls"] = {"api": {"public": url, "private": url}}
        options.update(enableUnifiedMargin=False, enableUnifiedAccount=True)
    else:
        config["urls"] = {"api": {"spot": url, "common": url, "margin": url}}
        config["password"] = acct.passphrase
    config["options"] = options
    return getattr(ccxt_async, venue)(config)


async def bench_venue(venue: str) -> tuple[list[float], list[float]]:
    from arbot.events import Side
    from arbot.trading.signing import ApiCredentials
    from arbot.trading.types import OrderRequest, OrderType

    symbol = "BTC/USDT"
    emu_cls, gw_cls = _classes(venue)

    async with emu_cls((symbol,), seed=3, tick_interval=None) as emu:
        acct = emu.private.create_account({"USDT": "100000000", "BTC": "1000"})
        url = emu.http_url
        price = round(emu.true_book(symbol).best_bid * 0.9, 1)

        # -- ArBot ------------------------------------------------------------------------------
        creds = ApiCredentials(acct.api_key, secret=acct.secret, passphrase=acct.passphrase)
        gw = gw_cls(creds, rest_url=url)
        await gw.start()
        gw.rest.limiter = NoLimit()  # type: ignore[assignment]
        real = gw.rest.request
        recorded: dict[str, Any] = {}

        async def record(*args: Any, **kwargs: Any) -> Any:
            recorded["body"] = body = await real(*args, **kwargs)
            return body

        gw.rest.request = record  # type: ignore[method-assign]
        await gw.place_order(
            OrderRequest(venue, symbol, Side.BUY, OrderType.LIMIT, 0.001, gw.new_client_id(), price)
        )

        async def replay(*args: Any, **kwargs: Any) -> Any:
            return recorded["body"]

        gw.rest.request = replay  # type: ignore[method-assign]

        async def arbot_order(i: int) -> Any:
            return await gw.place_order(
                OrderRequest(venue, symbol, Side.BUY, OrderType.LIMIT, 0.001, gw.new_client_id(), price)
            )

        ours = await _timed(arbot_order)
        await gw.close()

        # -- ccxt -------------------------------------------------------------------------------
        ex = _ccxt(venue, url, acct)
        await ex.load_markets()
        real_fetch = ex.fetch
        seen: dict[str, Any] = {}

        async def record_fetch(*args: Any, **kwargs: Any) -> Any:
            seen["body"] = body = await real_fetch(*args, **kwargs)
            return body

        ex.fetch = record_fetch
        cid_key = {
            "binance": "newClientOrderId",
            "okx": "clOrdId",
            "bybit": "orderLinkId",
            "bitget": "clientOid",
        }[venue]
        await ex.create_order(symbol, "limit", "buy", 0.001, price, {cid_key: gw.new_client_id()})

        async def replay_fetch(*args: Any, **kwargs: Any) -> Any:
            return seen["body"]

        ex.fetch = replay_fetch

        async def ccxt_order(i: int) -> Any:
            return await ex.create_order(symbol, "limit", "buy", 0.001, price, {cid_key: f"c{i}x{venue}"})

        theirs = await _timed(ccxt_order)
        await ex.close()
    return ours, theirs


async def round_trip_venue(venue: str) -> tuple[list[float], list[float]]:
    """IOC orders against the emulator, over loopback: (ArBot µs, ccxt µs) per order."""
    from arbot.events import Side
    from arbot.trading.signing import ApiCredentials
    from arbot.trading.types import OrderRequest, OrderType, TimeInForce

    emu_cls, gw_cls = _classes(venue)
    symbol = "BTC/USDT"
    async with emu_cls((symbol,), seed=3, tick_interval=None) as emu:
        acct = emu.private.create_account({"USDT": "100000000", "BTC": "1000"})
        price = round(emu.true_book(symbol).best_bid * 0.9, 1)  # never fills: an IOC that expires
        gw = gw_cls(
            ApiCredentials(acct.api_key, secret=acct.secret, passphrase=acct.passphrase),
            rest_url=emu.http_url,
        )
        await gw.start()
        gw.rest.limiter = NoLimit()  # type: ignore[assignment]
        ours: list[float] = []
        for i in range(ROUND_TRIPS + 20):
            req = OrderRequest(
                venue, symbol, Side.BUY, OrderType.LIMIT, 0.001, gw.new_client_id(), price, TimeInForce.IOC
            )
            t0 = time.perf_counter_ns()
            await gw.place_order(req)
            if i >= 20:
                ours.append((time.perf_counter_ns() - t0) / 1000.0)
        await gw.close()
        ex = _ccxt(venue, emu.http_url, acct)
        await ex.load_markets()
        theirs: list[float] = []
        for i in range(ROUND_TRIPS + 20):
            t0 = time.perf_counter_ns()
            await ex.create_order(symbol, "limit", "buy", 0.001, price, {"timeInForce": "IOC"})
            if i >= 20:
                theirs.append((time.perf_counter_ns() - t0) / 1000.0)
        await ex.close()
    return ours, theirs


def main() -> None:
    """Run every venue and print medians, p99s and ratios."""
    print(f"order build + sign + serialize + answer parse, network stubbed, {N} orders per client (µs)")
    heads = ("arbot p50", "arbot p99", "ccxt p50", "ccxt p99", "p50 ratio", "p99 ratio")
    print(f"{'venue':<9}" + "".join(f"{h:>11}" for h in heads))
    for venue in ("binance", "okx", "bybit", "bitget"):
        ours, theirs = asyncio.run(bench_venue(venue))
        o50, o99 = statistics.median(ours), _p(ours, 0.99)
        t50, t99 = statistics.median(theirs), _p(theirs, 0.99)
        cells = f"{o50:>11.1f}{o99:>11.1f}{t50:>11.1f}{t99:>11.1f}"
        print(f"{venue:<9}{cells}{t50 / o50:>10.1f}x{t99 / o99:>10.1f}x")
    print(f"\nIOC order round trip against the emulator over loopback, {ROUND_TRIPS} orders per client (µs)")
    print(f"{'venue':<9}" + "".join(f"{h:>11}" for h in heads))
    for venue in ("binance", "okx", "bybit", "bitget"):
        ours, theirs = asyncio.run(round_trip_venue(venue))
        o50, o99 = statistics.median(ours), _p(ours, 0.99)
        t50, t99 = statistics.median(theirs), _p(theirs, 0.99)
        cells = f"{o50:>11.1f}{o99:>11.1f}{t50:>11.1f}{t99:>11.1f}"
        print(f"{venue:<9}{cells}{t50 / o50:>10.1f}x{t99 / o99:>10.1f}x")


if __name__ == "__main__":
    main()
