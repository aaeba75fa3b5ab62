"""The Bithumb trading gateway against the Bithumb emulator over loopback sockets: the order
lifecycle, precision, and every injected trading fault (core TradingConformance suite)."""

from __future__ import annotations

from arbot.testing.emulator.server import EmulatorServer
from arbot.testing.emulator.trading_conformance import TradingConformance
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signing import ApiCredentials
from arbot_bithumb.emulator import BithumbEmulator
from arbot_bithumb.trading import BithumbTradingGateway


class TestBithumbTrading(TradingConformance):
    symbol = "BTC/KRW"
    bid, ask, rest_price = "80000000", "80001000", 79000000.0
    qty = 0.01

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
    stale_code = "invalid_timestamp"
    boundary_steps = 190000

    def make_emulator(self) -> EmulatorServer:
        return BithumbEmulator(("BTC/KRW", "ETH/KRW"), tick_interval=None)

    def make_gateway(self, emulator: EmulatorServer, credentials: ApiCredentials) -> RestTradingGateway:
        ticks = {self.symbol: 1000.0}  # Bithumb's market list has no ticks: the caller gives them
        return BithumbTradingGateway(
            credentials,
            rest_url=emulator.http_url,
            ws_url=emulator.ws_url + "/websocket/v1/private",
            tick_sizes=ticks,
        )
