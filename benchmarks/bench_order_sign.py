"""Order build + sign + serialize per venue: ArBot's trading gateway vs ccxt ``create_order``,
for all eight native venues (Binance, OKX, Bybit, Bitget, KuCoin, Gate, Upbit, Bithumb).

For each venue both clients first load markets from the venue's emulator (real loopback
sockets) and place one real limit order there, and the venue's answer is recorded. Then the
network is stubbed at the same point for both: ArBot's ``RestClient.request`` and ccxt's
``fetch`` (each is "send this method, URL, headers and body; give back the decoded JSON") return
the recorded answer without sending anything. What is timed is everything else a client does
for one order, through its public order call (ArBot ``place_order``, ccxt ``create_order`` with
the venue's client-id parameter): checks and rounding against the market, the request
parameters, the timestamp/nonce, the signature (HMAC or JWT), the encoded query/body and
headers, and reading the answer into an order. ccxt's throttle is off
(``enableRateLimit=False``); ArBot's own order-count limiter (Binance) keeps its bookkeeping
with a budget that never makes it wait. Neither side is given anything the other is not.
The two clients are timed in alternating blocks of 10 orders, so that a machine whose load
drifts during the run weighs on both alike.

Prints the median and p99 per order and the ratio ccxt / ArBot (the issue's goal: >= 10x).

Second table: the round trip of a real IOC order (placed, matched, answered) against each
venue's emulator over loopback sockets, ArBot vs ccxt, p50/p99 (the emulator runs in the same
process and event loop for both clients).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from arbot.connectors.ratelimit import CountLimiter

N = 3000
WARMUP = 300
BLOCK = 10
ROUND_TRIPS = 300
VENUES = ("binance", "okx", "bybit", "bitget", "kucoin", "gate", "upbit", "bithumb")

#: The venue's client order id parameter, as ccxt passes it through.
CLIENT_ID_PARAM = {
    "binance": "newClientOrderId",
    "okx": "clOrdId",
    "bybit": "orderLinkId",
    "bitget": "clientOid",
    "kucoin": "clientOid",
    "gate": "text",
    "upbit": "identifier",
    "bithumb": "client_order_id",
}

#: What ccxt is told about the emulators: spot markets only, no currency or margin listings.
CCXT_OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {"fetchCurrencies": False, "fetchMargins": False},
    "okx": {"fetchCurrencies": False},
    "bybit": {"fetchCurrencies": False, "enableUnifiedMargin": False, "enableUnifiedAccount": True},
    "bitget": {"fetchCurrencies": False},
}


class NeverWaits:
    """A limiter that never waits (only for the network stand-in: nothing is sent)."""

    throttled = 0
    waited = 0.0

    async def acquire(self, cost: float = 1.0, endpoint: str | None = None) -> float:
        return 0.0

    def reserve(self, cost: float = 1.0, endpoint: str | None = None) -> float:
        return 0.0

    def block(self, seconds: float) -> None:
        return None

    def sync_used(self, used: float, endpoint: str | None = None) -> None:
        return None


def _symbol(venue: str) -> str:
    return "BTC/KRW" if venue in ("upbit", "bithumb") else "BTC/USDT"


def _emulator(venue: str) -> Any:
    """The venue's emulator (no ticker: a static book)."""
    symbols = (_symbol(venue), "ETH/KRW" if venue in ("upbit", "bithumb") else "ETH/USDT")
    if venue == "binance":
        from arbot_binance.emulator import BinanceEmulator as Emu
    elif venue == "okx":
        from arbot_okx.emulator import OkxEmulator as Emu  # type: ignore[assignment]
    elif venue == "bybit":
        from arbot_bybit.emulator import BybitEmulator as Emu  # type: ignore[assignment]
    elif venue == "bitget":
        from arbot_bitget.emulator import BitgetEmulator as Emu  # type: ignore[assignment]
    elif venue == "kucoin":
        from arbot_kucoin.emulator import KucoinEmulator as Emu  # type: ignore[assignment]
    elif venue == "gate":
        from arbot_gate.emulator import GateEmulator as Emu  # type: ignore[assignment]
    elif venue == "upbit":
        from arbot_upbit.emulator import UpbitEmulator as Emu  # type: ignore[assignment]
    else:
        from arbot_bithumb.emulator import BithumbEmulator as Emu  # type: ignore[assignment]
    return Emu(symbols, seed=3, tick_interval=None)


def _gateway(venue: str, creds: Any, url: str) -> Any:
    """ArBot's trading gateway of ``venue`` on ``url`` (REST only: no private stream)."""
    if venue == "binance":
        from arbot_binance.trading import BinanceTradingGateway

        return BinanceTradingGateway(creds, rest_url=url)
    if venue == "okx":
        from arbot_okx.trading import OkxTradingGateway

        return OkxTradingGateway(creds, rest_url=url)
    if venue == "bybit":
        from arbot_bybit.trading import BybitTradingGateway

        return BybitTradingGateway(creds, rest_url=url)
    if venue == "bitget":
        from arbot_bitget.trading import BitgetTradingGateway

        return BitgetTradingGateway(creds, rest_url=url)
    if venue == "kucoin":
        from arbot_kucoin.trading import KucoinTradingGateway

        return KucoinTradingGateway(creds, rest_url=url, stream=False)
    if venue == "gate":
        from arbot_gate.trading import GateTradingGateway

        return GateTradingGateway(creds, rest_url=url, stream=False)
    if venue == "upbit":
        from arbot_upbit.trading import UpbitTradingGateway

        return UpbitTradingGateway(creds, rest_url=url, stream=False)
    from arbot_bithumb.trading import BithumbTradingGateway

    # Bithumb's market list has no ticks: the caller gives them (as the conformance suite does)
    return BithumbTradingGateway(creds, rest_url=url, stream=False, tick_sizes={"BTC/KRW": 1000.0})


def _ccxt(venue: str, url: str, acct: Any) -> Any:
    """ccxt's async client of ``venue`` pointed at the emulator, its throttle off."""
    import ccxt.async_support as ccxt_async
    from arbot.testing.emulator.emulate_process import rebase_urls

    ex = getattr(ccxt_async, venue)(
        {
            "apiKey": acct.api_key,
            "secret": acct.secret,
            "password": acct.passphrase,
            "enableRateLimit": False,
        }
    )
    rebase_urls(ex.urls["api"], url)
    ex.options["fetchMarkets"] = {"types": ["spot"]}
    ex.options.update(CCXT_OPTIONS.get(venue, {}))
    return ex


async def _interleaved(
    ours: Callable[[int], Awaitable[Any]], theirs: Callable[[int], Awaitable[Any]]
) -> tuple[list[float], list[float]]:
    """µs per call of each, timed in alternating blocks of ``BLOCK`` calls (a machine whose load
    drifts during the run weighs on both alike), after ``WARMUP`` calls of each."""
    for i in range(WARMUP):
        await ours(i)
        await theirs(i)
    times: tuple[list[float], list[float]] = ([], [])
    clock = time.perf_counter_ns
    for start in range(WARMUP, WARMUP + N, BLOCK):
        for call, out in ((ours, times[0]), (theirs, times[1])):
            for i in range(start, start + BLOCK):
                t0 = clock()
                await call(i)
                out.append((clock() - t0) / 1000.0)
    return times


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def _price(emu: Any, symbol: str) -> float:
    """A buy price well below the book (the order rests, or an IOC expires)."""
    return float(round(emu.true_book(symbol).best_bid * 0.9, -3 if symbol.endswith("KRW") else 1))


async def _arbot_gateway(venue: str, emu: Any, acct: Any) -> Any:
    from arbot.trading.signing import ApiCredentials

    creds = ApiCredentials(acct.api_key, secret=acct.secret, passphrase=acct.passphrase)
    gw = _gateway(venue, creds, emu.http_url)
    await gw.start()
    if hasattr(gw, "order_limiter"):  # Binance's order count: booked, but never waited for
        gw.order_limiter = CountLimiter(10**9, 10.0)
    return gw


async def bench_venue(venue: str) -> tuple[list[float], list[float]]:
    """(ArBot µs, ccxt µs) per order, network stubbed."""
    from arbot.events import Side
    from arbot.trading.types import OrderRequest, OrderType

    symbol = _symbol(venue)
    async with _emulator(venue) as emu:
        acct = emu.private.create_account({"USDT": "100000000", "BTC": "1000", "KRW": "100000000000"})
        price = _price(emu, symbol)

        # -- ArBot ------------------------------------------------------------------------------
        gw = await _arbot_gateway(venue, emu, acct)
        real = gw.rest.request
        recorded: dict[str, Any] = {}

        async def record(*args: Any, **kwargs: Any) -> Any:
            recorded["body"] = body = await real(*args, **kwargs)
            return body

        gw.rest.request = record
        await gw.place_order(
            OrderRequest(venue, symbol, Side.BUY, OrderType.LIMIT, 0.001, gw.new_client_id(), price)
        )

        async def replay(*args: Any, **kwargs: Any) -> Any:
            return recorded["body"]

        gw.rest.request = replay
        gw.rest.limiter = NeverWaits()

        async def arbot_order(i: int) -> Any:
            return await gw.place_order(
                OrderRequest(venue, symbol, Side.BUY, OrderType.LIMIT, 0.001, gw.new_client_id(), price)
            )

        # -- ccxt -------------------------------------------------------------------------------
        ex = _ccxt(venue, emu.http_url, acct)
        await ex.load_markets()
        real_fetch = ex.fetch
        seen: dict[str, Any] = {}

        async def record_fetch(*args: Any, **kwargs: Any) -> Any:
            seen["body"] = body = await real_fetch(*args, **kwargs)
            return body

        ex.fetch = record_fetch
        cid_key = CLIENT_ID_PARAM[venue]
        await ex.create_order(symbol, "limit", "buy", 0.001, price, {cid_key: gw.new_client_id()})

        async def replay_fetch(*args: Any, **kwargs: Any) -> Any:
            return seen["body"]

        ex.fetch = replay_fetch

        async def ccxt_order(i: int) -> Any:
            return await ex.create_order(symbol, "limit", "buy", 0.001, price, {cid_key: f"c{i}x{venue}"})

        try:
            return await _interleaved(arbot_order, ccxt_order)
        finally:
            await gw.close()
            await ex.close()


async def round_trip_venue(venue: str) -> tuple[list[float], list[float]]:
    """IOC orders against the emulator, over loopback: (ArBot µs, ccxt µs) per order."""
    from arbot.events import Side
    from arbot.trading.types import OrderRequest, OrderType, TimeInForce

    symbol = _symbol(venue)
    async with _emulator(venue) as emu:
        acct = emu.private.create_account({"USDT": "100000000", "BTC": "1000", "KRW": "100000000000"})
        price = _price(emu, symbol)  # never fills: an IOC that expires
        gw = await _arbot_gateway(venue, emu, acct)
        gw.rest.limiter = NeverWaits()  # the emulator's own limits are not what is measured
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


def _row(venue: str, ours: list[float], theirs: list[float]) -> str:
    o50, o99 = statistics.median(ours), _p(ours, 0.99)
    t50, t99 = statistics.median(theirs), _p(theirs, 0.99)
    cells = f"{o50:>11.1f}{o99:>11.1f}{t50:>11.1f}{t99:>11.1f}"
    return f"{venue:<9}{cells}{t50 / o50:>10.1f}x{t99 / o99:>10.1f}x"


def main() -> None:
    """Run every venue (or the venues named on the command line) and print medians, p99s and
    ratios; ``--quick`` times fewer orders, ``--no-round-trip`` skips the second table."""
    global N, WARMUP, ROUND_TRIPS
    venues = [v for v in sys.argv[1:] if v in VENUES] or list(VENUES)
    if "--quick" in sys.argv:  # while developing: fewer orders
        N, WARMUP, ROUND_TRIPS = 500, 100, 50
    heads = ("arbot p50", "arbot p99", "ccxt p50", "ccxt p99", "p50 ratio", "p99 ratio")
    print(f"order build + sign + serialize + answer parse, network stubbed, {N} orders per client (µs)")
    print(f"{'venue':<9}" + "".join(f"{h:>11}" for h in heads), flush=True)
    for venue in venues:
        print(_row(venue, *asyncio.run(bench_venue(venue))), flush=True)
    if "--no-round-trip" in sys.argv:
        return
    print(f"\nIOC order round trip against the emulator over loopback, {ROUND_TRIPS} orders per client (µs)")
    print(f"{'venue':<9}" + "".join(f"{h:>11}" for h in heads), flush=True)
    for venue in venues:
        print(_row(venue, *asyncio.run(round_trip_venue(venue))), flush=True)


if __name__ == "__main__":
    main()
