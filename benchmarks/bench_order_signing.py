"""Order build + sign + serialize (+ parse the answer), ArBot vs ccxt ``create_order``, for KuCoin,
Gate, Upbit and Bithumb, with the network stubbed at the same point for both; then the round trip
of an IOC order against each venue's emulator over loopback (p50/p99), ArBot vs ccxt's async
client, the emulator running in the same event loop for both.

Both clients load their markets from ``arbot emulate VENUE`` (a child process) and place one
real order, whose answer is kept. Then, timed: ccxt ``create_order`` with ``fetch`` replaced by
a function returning that answer (ccxt still builds the request, rounds, signs, encodes the
body and parses the answer); ArBot ``prepare`` (rounding, minimums) + ``order_call`` + ``sign``
+ body bytes + ``order_ack`` of the same answer. Prints per-order medians and the ratio.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import ccxt
import msgspec
from arbot.events import Side
from arbot.testing.emulator.emulate_process import emulate_process, rebase_urls
from arbot.trading.signed_gateway import SignedRestGateway
from arbot.trading.signing import ApiCredentials
from arbot.trading.types import OrderRequest, OrderType, TimeInForce

VENUES: list[tuple[str, str, float, str]] = [
    ("kucoin", "BTC/USDT", 50000.1, "BTC/USDT,ETH/USDT"),
    ("gate", "BTC/USDT", 30000.01, "BTC/USDT,ETH/USDT"),
    ("upbit", "BTC/KRW", 70_000_000.0, "BTC/KRW,ETH/KRW"),
    ("bithumb", "BTC/KRW", 70_000_000.0, "BTC/KRW,ETH/KRW"),
]
N = 2000


def _gateway(venue: str, creds: ApiCredentials, url: str) -> SignedRestGateway:
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

    return BithumbTradingGateway(creds, rest_url=url, stream=False, tick_sizes={"BTC/KRW": 1000.0})


def _median_ns(fn: Callable[[], object], n: int = N) -> float:
    for _ in range(50):
        fn()
    samples = []
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter_ns() - t0) / n)
    return statistics.median(samples)


def bench(venue: str, symbol: str, price: float, symbols: str) -> tuple[float, float]:
    with emulate_process(venue, "--symbols", symbols, timeout=120) as out:
        info = out.info
        ex = getattr(ccxt, venue)(
            {
                "apiKey": info["api_key"],
                "secret": info["secret"],
                "password": info.get("passphrase"),
                "enableRateLimit": False,
            }
        )
        rebase_urls(ex.urls["api"], out.http_url)
        ex.options["fetchMarkets"] = {"types": ["spot"]}
        ex.load_markets()
        answers: list[Any] = []
        real_fetch = ex.fetch

        def keep(*args: Any, **kwargs: Any) -> Any:
            answers.append(real_fetch(*args, **kwargs))
            return answers[-1]

        ex.fetch = keep
        ex.create_order(symbol, "limit", "buy", 0.001, price)
        canned = answers[-1]
        ex.fetch = lambda *a, **k: canned  # the network stub (no rate-limit sleeps either)
        theirs = _median_ns(lambda: ex.create_order(symbol, "limit", "buy", 0.001, price))

        creds = ApiCredentials(info["api_key"], secret=info["secret"], passphrase=info.get("passphrase"))
        gw = _gateway(venue, creds, out.http_url)

        async def setup() -> dict[str, Any]:
            gw.markets = {m.symbol: m for m in await gw.fetch_markets()}
            req = OrderRequest(venue, symbol, Side.BUY, OrderType.LIMIT, 0.001, gw.new_client_id(), price)
            order = gw.prepared(req)
            path, body = gw.order_call(order)
            answer = await gw.call("POST", path, body=body)
            await gw.close()
            return answer if isinstance(answer, dict) else {}

        answer = asyncio.run(setup())
        ours_answer = msgspec.json.decode(msgspec.json.encode(answer))
        cid = gw.new_client_id()

        def ours() -> object:
            req = OrderRequest(venue, symbol, Side.BUY, OrderType.LIMIT, 0.001, cid, price, TimeInForce.GTC)
            order = gw.prepared(req)
            path, body = gw.order_call(order)
            signed = gw.sign("POST", path, None, body, gw.now_ms())
            assert signed.body is not None
            signed.body.encode()
            return gw.order_ack(order, ours_answer)

        return theirs, _median_ns(ours)


ROUND_TRIPS = 200


def _emulator(venue: str, symbols: str) -> Any:
    if venue == "kucoin":
        from arbot_kucoin.emulator import KucoinEmulator

        return KucoinEmulator(symbols.split(","), tick_interval=None)
    if venue == "gate":
        from arbot_gate.emulator import GateEmulator

        return GateEmulator(symbols.split(","), tick_interval=None)
    if venue == "upbit":
        from arbot_upbit.emulator import UpbitEmulator

        return UpbitEmulator(symbols.split(","), tick_interval=None)
    from arbot_bithumb.emulator import BithumbEmulator

    return BithumbEmulator(symbols.split(","), tick_interval=None)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def round_trip(venue: str, symbol: str, price: float, symbols: str) -> tuple[list[float], list[float]]:
    """IOC orders that expire (priced below the book), ArBot vs ccxt async, µs per order."""
    import ccxt.async_support as ccxt_async

    async with _emulator(venue, symbols) as emu:
        acct = emu.private.account
        creds = ApiCredentials(acct.api_key, secret=acct.secret, passphrase=acct.passphrase)
        gw = _gateway(venue, creds, emu.http_url)
        gw.limiter.reserve = lambda cost=1.0, endpoint=None: 0.0  # the bench measures the client
        await gw.start()
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
        ex = getattr(ccxt_async, venue)(
            {
                "apiKey": acct.api_key,
                "secret": acct.secret,
                "password": acct.passphrase,
                "enableRateLimit": False,
            }
        )
        rebase_urls(ex.urls["api"], emu.http_url)
        ex.options["fetchMarkets"] = {"types": ["spot"]}
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
    print("order build + sign + serialize + answer parse, network stubbed (median µs per order)")
    print(f"{'venue':<9}{'ccxt create_order µs':>22}{'ArBot µs':>10}{'ratio':>8}")
    for venue, symbol, price, symbols in VENUES:
        theirs, ours = bench(venue, symbol, price, symbols)
        print(f"{venue:<9}{theirs / 1000:>22.1f}{ours / 1000:>10.1f}{theirs / ours:>7.1f}x")
    print(f"\nIOC round trip against the emulator over loopback, {ROUND_TRIPS} orders per client (µs)")
    heads = ("arbot p50", "arbot p99", "ccxt p50", "ccxt p99", "p50 ratio", "p99 ratio")
    print(f"{'venue':<9}" + "".join(f"{h:>11}" for h in heads))
    for venue, symbol, price, symbols in VENUES:
        ours_rt, theirs_rt = asyncio.run(round_trip(venue, symbol, price, symbols))
        o50, o99, t50, t99 = (
            statistics.median(ours_rt),
            _p(ours_rt, 0.99),
            statistics.median(theirs_rt),
            _p(theirs_rt, 0.99),
        )
        cells = f"{o50:>11.1f}{o99:>11.1f}{t50:>11.1f}{t99:>11.1f}"
        print(f"{venue:<9}{cells}{t50 / o50:>10.1f}x{t99 / o99:>10.1f}x")


if __name__ == "__main__":
    main()
