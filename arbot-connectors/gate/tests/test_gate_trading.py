"""The Gate trading gateway against the Gate emulator over loopback sockets: the order
lifecycle, precision, and every injected trading fault (core GatewayLifecycle suite)."""

from __future__ import annotations

from arbot.testing.emulator.gateway_lifecycle import GatewayLifecycle
from arbot.testing.emulator.server import EmulatorServer
from arbot.trading.signed_gateway import SignedRestGateway
from arbot.trading.signing import ApiCredentials
from arbot_gate.emulator import GateEmulator
from arbot_gate.trading import GateTradingGateway


class TestGateTrading(GatewayLifecycle):
    symbol = "BTC/USDT"
    bid, ask, rest_price = "40000", "40000.01", 39000.0

    def make_emulator(self) -> EmulatorServer:
        return GateEmulator(("BTC/USDT", "ETH/USDT"), tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, credentials: ApiCredentials) -> SignedRestGateway:
        return GateTradingGateway(credentials, rest_url=emulator.http_url, ws_url=emulator.ws_url + "/ws/v4/")
