"""The Gate trading gateway against the Gate emulator over loopback sockets: the order
lifecycle, precision, and every injected trading fault (core TradingConformance suite)."""

from __future__ import annotations

from arbot.testing.emulator.server import EmulatorServer
from arbot.testing.emulator.trading_conformance import TradingConformance
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signing import ApiCredentials
from arbot_gate.emulator import GateEmulator
from arbot_gate.trading import GateTradingGateway


class TestGateTrading(TradingConformance):
    symbol = "BTC/USDT"
    bid, ask, rest_price = "40000", "40000.01", 39000.0

    post_only_reject_code = "POC_FILL_IMMEDIATELY"
    duplicate_reject_code = "INVALID_PARAM_VALUE"
    wire_order = (0.00015, 200000.0, "0.00015")
    min_networks = 1
    reject_codes = ("BALANCE_NOT_ENOUGH", "INVALID_PARAM_VALUE", "INVALID_PRECISION")
    auth_codes = ("INVALID_SIGNATURE", "INVALID_KEY")
    stale_code = "REQUEST_EXPIRED"
    reconciles_after_stream_drop = False

    def make_emulator(self) -> EmulatorServer:
        return GateEmulator(("BTC/USDT", "ETH/USDT"), tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, credentials: ApiCredentials) -> RestTradingGateway:
        return GateTradingGateway(credentials, rest_url=emulator.http_url, ws_url=emulator.ws_url + "/ws/v4/")
