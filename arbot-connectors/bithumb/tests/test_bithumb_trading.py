"""The Bithumb trading gateway against the Bithumb emulator over loopback sockets: the order
lifecycle, precision, and every injected trading fault (core GatewayLifecycle suite)."""

from __future__ import annotations

from arbot.testing.emulator.gateway_lifecycle import GatewayLifecycle
from arbot.testing.emulator.server import EmulatorServer
from arbot.trading.signed_gateway import SignedRestGateway
from arbot.trading.signing import ApiCredentials
from arbot_bithumb.emulator import BithumbEmulator
from arbot_bithumb.trading import BithumbTradingGateway


class TestBithumbTrading(GatewayLifecycle):
    symbol = "BTC/KRW"
    bid, ask, rest_price = "80000000", "80001000", 79000000.0
    qty = 0.01

    def make_emulator(self) -> EmulatorServer:
        return BithumbEmulator(("BTC/KRW", "ETH/KRW"), tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, credentials: ApiCredentials) -> SignedRestGateway:
        ticks = {self.symbol: 1000.0}  # Bithumb's market list has no ticks: the caller gives them
        return BithumbTradingGateway(credentials, rest_url=emulator.http_url,
                                     ws_url=emulator.ws_url + "/websocket/v1/private", tick_sizes=ticks)
