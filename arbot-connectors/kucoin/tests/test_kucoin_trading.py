"""The KuCoin trading gateway against the KuCoin emulator over loopback sockets: the order
lifecycle, precision, and every injected trading fault (core TradingConformance suite)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from arbot.testing.emulator.server import EmulatorServer
from arbot.testing.emulator.trading_conformance import TradingConformance
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signing import ApiCredentials
from arbot_kucoin.emulator import KucoinEmulator
from arbot_kucoin.trading import KucoinTradingGateway


class TestKucoinTrading(TradingConformance):
    symbol = "BTC/USDT"
    bid, ask, rest_price = "60000", "60000.1", 59000.0

    post_only_reject_code = "400100"
    min_networks = 1
    reject_codes = ("200004", "400100", "400100")
    auth_codes = ("400004", "400003")
    stale_code = "400002"

    def make_emulator(self) -> EmulatorServer:
        return KucoinEmulator(("BTC/USDT", "ETH/USDT"), tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, credentials: ApiCredentials) -> RestTradingGateway:
        return KucoinTradingGateway(credentials, rest_url=emulator.http_url)


def test_start_warns_when_the_trading_key_can_withdraw(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        emu = KucoinEmulator(("BTC/USDT",), tick_interval=None)
        await emu.start()
        acct = emu.private.account
        creds = ApiCredentials(acct.api_key, secret=acct.secret, passphrase=acct.passphrase)
        try:
            gw = KucoinTradingGateway(creds, rest_url=emu.http_url, stream=False)
            await gw.start()
            await gw.close()
            assert "WITHDRAW" not in caplog.text and "whitelist OFF" in caplog.text
            caplog.clear()
            emu.private.key_info[acct.api_key] = ("General,Spot,Withdrawal", "10.0.0.1")
            gw = KucoinTradingGateway(creds, rest_url=emu.http_url, stream=False)
            await gw.start()
            await gw.close()
            assert "can WITHDRAW" in caplog.text and "whitelist on (10.0.0.1)" in caplog.text
        finally:
            await emu.stop()

    with caplog.at_level(logging.INFO, logger="arbot_kucoin.trading"):
        asyncio.run(main())
