"""The Upbit trading gateway against the Upbit emulator over loopback sockets: the order
lifecycle, precision, and every injected trading fault (core GatewayLifecycle suite). An
``identifier`` is never sent twice, so the suite expects a "new client id" error where other
venues resend."""

from __future__ import annotations

from arbot.testing.emulator.gateway_lifecycle import GatewayLifecycle
from arbot.testing.emulator.server import EmulatorServer
from arbot.trading.signed_gateway import SignedRestGateway
from arbot.trading.signing import ApiCredentials
from arbot_upbit.emulator import UpbitEmulator
from arbot_upbit.trading import UpbitTradingGateway


class TestUpbitTrading(GatewayLifecycle):
    symbol = "BTC/KRW"
    bid, ask, rest_price = "80000000", "80001000", 79000000.0
    qty = 0.01
    client_id_resendable = False
    signs_time = False

    def make_emulator(self) -> EmulatorServer:
        return UpbitEmulator(("BTC/KRW", "ETH/KRW"), tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, credentials: ApiCredentials) -> SignedRestGateway:
        return UpbitTradingGateway(credentials, rest_url=emulator.http_url,
                                   ws_url=emulator.ws_url + "/websocket/v1/private")
