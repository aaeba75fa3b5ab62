"""The market-data connector and the trading gateway of one venue draw from one REST budget:
both hammer the Gate emulator at once and the emulator's own count of requests in a sliding
window never exceeds the budget. Two gateways of one API key also share the key's budget."""

from __future__ import annotations

import asyncio

from arbot.connectors.ratelimit import CombinedLimiter, CountLimiter, host_limiter
from arbot.testing.emulator import make_context
from arbot.trading.signing import ApiCredentials
from arbot_gate import GateConnector
from arbot_gate.emulator import GateEmulator, emulator_settings
from arbot_gate.trading import GateTradingGateway

LIMIT, WINDOW = 8, 1.0


def test_market_data_and_trading_never_exceed_the_venues_budget_together() -> None:
    async def main() -> None:
        async with GateEmulator(("BTC/USDT",), tick_interval=None) as emu:
            acct = emu.private.create_account({"USDT": "1000"})
            # the venue's budget for this host: the first client of a host sets it (here the
            # test, with a short window); the connector and the gateway both find it
            budget = host_limiter(emu.http_url, lambda: CountLimiter(LIMIT, WINDOW))
            conn = GateConnector(emulator_settings(emu), make_context())
            gw = GateTradingGateway(ApiCredentials(acct.api_key, secret=acct.secret), rest_url=emu.http_url,
                                    stream=False)
            assert conn.limiter is budget
            assert isinstance(gw.limiter, CombinedLimiter) and gw.limiter.parts[0] is budget
            counts = {"market": 0, "trading": 0}
            loop = asyncio.get_running_loop()
            end = loop.time() + 2.5

            async def market() -> None:
                while loop.time() < end:
                    await conn.rest.get("/spot/currency_pairs")
                    counts["market"] += 1

            async def trading() -> None:
                while loop.time() < end:
                    await gw.balances()
                    counts["trading"] += 1

            emu.request_times.clear()
            try:
                await asyncio.gather(market(), market(), trading(), trading())
            finally:
                await gw.close()
                await conn.close()
            assert counts["market"] >= 4 and counts["trading"] >= 4, counts
            # arrival jitter on loopback is far below 0.1 s: count in a slightly shorter window
            assert emu.busiest(WINDOW - 0.1) <= LIMIT, (emu.busiest(WINDOW - 0.1), counts)
            assert sum(counts.values()) <= LIMIT * 4  # 2.5 s: at most 3 full windows + a burst

    asyncio.run(asyncio.wait_for(main(), 30))


def test_gateways_of_one_key_share_its_budget_and_other_keys_do_not() -> None:
    url = "http://127.0.0.1:9"
    a1 = GateTradingGateway(ApiCredentials("key-a", secret="s" * 32), rest_url=url, stream=False)
    a2 = GateTradingGateway(ApiCredentials("key-a", secret="s" * 32), rest_url=url, stream=False)
    b = GateTradingGateway(ApiCredentials("key-b", secret="s" * 32), rest_url=url, stream=False)
    limiters = [g.limiter for g in (a1, a2, b)]
    assert all(isinstance(lim, CombinedLimiter) for lim in limiters)
    host = {id(lim.parts[0]) for lim in limiters if isinstance(lim, CombinedLimiter)}
    keys = [lim.parts[1] for lim in limiters if isinstance(lim, CombinedLimiter)]
    assert len(host) == 1 and keys[0] is keys[1] and keys[2] is not keys[0]
