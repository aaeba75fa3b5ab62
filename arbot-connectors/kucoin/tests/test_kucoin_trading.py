"""The KuCoin trading gateway against the KuCoin emulator over loopback sockets: the order
lifecycle, precision, and every injected trading fault (core GatewayLifecycle suite)."""

from __future__ import annotations

from arbot.testing.emulator.gateway_lifecycle import GatewayLifecycle
from arbot.testing.emulator.server import EmulatorServer
from arbot.trading.restgateway import SignedRestGateway
from arbot.trading.signing import ApiCredentials
from arbot_kucoin.emulator import KucoinEmulator
from arbot_kucoin.trading import KucoinTradingGateway


class TestKucoinTrading(GatewayLifecycle):
    symbol = "BTC/USDT"
    bid, ask, rest_price = "60000", "60000.1", 59000.0

    def make_emulator(self) -> EmulatorServer:
        return KucoinEmulator(("BTC/USDT", "ETH/USDT"), tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, credentials: ApiCredentials) -> SignedRestGateway:
        return KucoinTradingGateway(credentials, rest_url=emulator.http_url)
