"""The venue's own count of requests when a market-data connector and a trading gateway hammer
one venue at once: ArBot's shared per-host limiter against the peer, the former wiring (each side
with its own limiter of the same budget).

Two Gate emulator clients of each kind (``GET /spot/currency_pairs`` through the connector's
REST client, ``GET /spot/accounts`` through the gateway) run for ``SECONDS``; the emulator logs
every arrival. Printed: requests sent, the busiest sliding window as the venue counts it (1.0 s,
and 0.9 s to leave out arrival jitter at window edges) and the ratio peer / shared of the busiest
window (the overshoot the shared limiter removes). Run: ``python benchmarks/bench_shared_limiter.py``.
"""

from __future__ import annotations

import asyncio

from arbot.connectors.ratelimit import CountLimiter, host_limiter, reset_shared_limiters
from arbot.testing.emulator import make_context
from arbot.trading.signing import ApiCredentials
from arbot_gate import GateConnector
from arbot_gate.emulator import GateEmulator, emulator_settings
from arbot_gate.trading import GateTradingGateway

LIMIT, WINDOW, SECONDS = 8, 1.0, 2.5


async def run(shared: bool) -> tuple[int, int, int]:
    """(requests, busiest 1.0 s window, busiest 0.9 s window) with shared or separate limiters."""
    reset_shared_limiters()
    async with GateEmulator(("BTC/USDT",), tick_interval=None) as emu:
        acct = emu.private.create_account({"USDT": "1000"})
        if shared:
            host_limiter(emu.http_url, lambda: CountLimiter(LIMIT, WINDOW))
            conn = GateConnector(emulator_settings(emu), make_context())
            own = None
        else:
            conn = GateConnector(emulator_settings(emu), make_context(), limiter=CountLimiter(LIMIT, WINDOW))
            own = CountLimiter(LIMIT, WINDOW)
        gw = GateTradingGateway(
            ApiCredentials(acct.api_key, secret=acct.secret), rest_url=emu.http_url, stream=False, limiter=own
        )
        loop = asyncio.get_running_loop()
        end = loop.time() + SECONDS

        async def market() -> None:
            while loop.time() < end:
                await conn.rest.get("/spot/currency_pairs")

        async def trading() -> None:
            while loop.time() < end:
                await gw.balances()

        emu.request_times.clear()
        try:
            await asyncio.gather(market(), market(), trading(), trading())
        finally:
            await gw.close()
            await conn.close()
        return len(emu.request_times), emu.busiest(WINDOW), emu.busiest(WINDOW - 0.1)


def main() -> None:
    """Print both runs and the ratio."""
    results = {name: asyncio.run(run(shared)) for name, shared in (("shared", True), ("separate", False))}
    for name, (n, busiest, inner) in results.items():
        print(f"{name:9s} budget {LIMIT}/{WINDOW:g}s: {n} requests in {SECONDS:g}s, busiest 1.0 s window "
              f"{busiest}, busiest 0.9 s window {inner}")
    print(f"ratio busiest 0.9 s window separate/shared: {results['separate'][2] / results['shared'][2]:.2f}x")


if __name__ == "__main__":
    main()
