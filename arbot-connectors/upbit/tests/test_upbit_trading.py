"""The Upbit trading gateway against the Upbit emulator over loopback sockets: the order
lifecycle, precision, and every injected trading fault (core TradingConformance suite). An
``identifier`` is never sent twice, so the suite expects a "new client id" error where other
venues resend."""

from __future__ import annotations

from arbot.testing.emulator.server import EmulatorServer
from arbot.testing.emulator.trading_conformance import TradingConformance
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signing import ApiCredentials
from arbot_upbit.emulator import UpbitEmulator
from arbot_upbit.trading import UpbitTradingGateway


class TestUpbitTrading(TradingConformance):
    symbol = "BTC/KRW"
    bid, ask, rest_price = "80000000", "80001000", 79000000.0
    qty = 0.01
    client_id_resendable = False
    signs_time = False

    balances = {"KRW": "1000000000", "BTC": "10"}
    fills_carry_fees = False
    transfers_show_address = False  # the withdrawal document has no address
    buy_fee_asset = "KRW"
    network_asset = "BTC"
    min_networks = 1
    wire_order = (5e-05, 200000000.0, "0.00005")
    reject_codes = ("insufficient_funds_bid", "under_min_total_bid", "invalid_price_bid")
    post_only_reject_code = "post_only_would_take"
    auth_codes = ("jwt_verification", "invalid_access_key")
    boundary_steps = 190000

    def make_emulator(self) -> EmulatorServer:
        return UpbitEmulator(("BTC/KRW", "ETH/KRW"), tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, credentials: ApiCredentials) -> RestTradingGateway:
        return UpbitTradingGateway(
            credentials, rest_url=emulator.http_url, ws_url=emulator.ws_url + "/websocket/v1/private"
        )
