"""Trading through ccxt: signed orders, cancels, balances and withdrawal fees against a Binance
emulator extended (here, in the tests) with the signed endpoints ccxt ``binance`` calls; and
the base class's clear error when no keys are configured."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from arbot.errors import ArbotError
from arbot.events import Side
from arbot.testing.emulator import make_context
from arbot_ccxt import CcxtConnector, CcxtSettings

emulator_mod = pytest.importorskip("arbot_binance.emulator")

KEY, SECRET = "test-key", "test-secret"


class SignedBinanceEmulator(emulator_mod.BinanceEmulator):  # type: ignore[misc, name-defined]
    """The Binance emulator plus the signed spot/sapi endpoints ccxt's trading calls use;
    every signed request is checked (API key header, HMAC-SHA256 signature)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.orders: dict[int, dict[str, Any]] = {}
        self.rejected = 0
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def routes(self) -> list[web.RouteDef]:
        return [*super().routes(),
                web.post("/api/v3/order", self._new_order),
                web.delete("/api/v3/order", self._cancel),
                web.get("/api/v3/account", self._account),
                web.get("/sapi/v1/capital/config/getall", self._coins)]

    async def _exchange_info(self, request: web.Request) -> web.Response:
        """The base body plus the order types and permissions ccxt checks before an order."""
        resp = await super()._exchange_info(request)
        assert isinstance(resp.body, bytes)
        body = json.loads(resp.body)
        for sym in body["symbols"]:
            sym.update(orderTypes=["LIMIT", "MARKET"], isSpotTradingAllowed=True,
                       permissions=["SPOT"], baseAssetPrecision=8, quotePrecision=8)
        return web.json_response(body)

    async def _signed(self, request: web.Request) -> dict[str, str] | None:
        body = await request.text()
        raw = request.query_string or body
        if request.query_string and body:
            raw = request.query_string + "&" + body
        payload, _, sig = raw.rpartition("&signature=")
        expected = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if request.headers.get("X-MBX-APIKEY") != KEY or not hmac.compare_digest(sig, expected):
            self.rejected += 1
            return None
        params = dict(parse_qsl(payload))
        self.requests.append((request.method, request.path, params))
        return params

    def _denied(self) -> web.Response:
        return web.json_response({"code": -1022, "msg": "Signature for this request is not valid."},
                                 status=400)

    async def _new_order(self, request: web.Request) -> web.Response:
        p = await self._signed(request)
        if p is None:
            return self._denied()
        oid = len(self.orders) + 1
        order = {"symbol": p["symbol"], "orderId": oid, "clientOrderId": f"c{oid}",
                 "transactTime": int(time.time() * 1000), "price": p.get("price", "0"),
                 "origQty": p["quantity"], "executedQty": "0", "cummulativeQuoteQty": "0",
                 "status": "NEW", "timeInForce": p.get("timeInForce", "GTC"),
                 "type": p["type"], "side": p["side"], "fills": []}
        self.orders[oid] = order
        return web.json_response(order)

    async def _cancel(self, request: web.Request) -> web.Response:
        p = await self._signed(request)
        if p is None:
            return self._denied()
        order = self.orders.get(int(p["orderId"]))
        if order is None:
            return web.json_response({"code": -2011, "msg": "Unknown order sent."}, status=400)
        order["status"] = "CANCELED"
        return web.json_response(order)

    async def _account(self, request: web.Request) -> web.Response:
        if await self._signed(request) is None:
            return self._denied()
        return web.json_response({
            "accountType": "SPOT", "updateTime": int(time.time() * 1000),
            "balances": [{"asset": "BTC", "free": "1.25", "locked": "0.5"},
                         {"asset": "USDT", "free": "1000.5", "locked": "0"},
                         {"asset": "ETH", "free": "0", "locked": "0"}]})

    async def _coins(self, request: web.Request) -> web.Response:
        if await self._signed(request) is None:
            return self._denied()
        return web.json_response([{
            "coin": "USDT", "name": "TetherUS", "depositAllEnable": True,
            "withdrawAllEnable": True, "free": "0", "locked": "0", "trading": True,
            "networkList": [
                {"network": "TRX", "coin": "USDT", "withdrawFee": "1.5", "withdrawMin": "10",
                 "depositEnable": True, "withdrawEnable": True, "isDefault": True, "name": "Tron"},
                {"network": "ETH", "coin": "USDT", "withdrawFee": "4.2", "withdrawMin": "20",
                 "depositEnable": True, "withdrawEnable": True, "isDefault": False,
                 "name": "Ethereum"}]}])


def settings_for(emulator: Any, **extra: Any) -> CcxtSettings:
    base = emulator.http_url
    values: dict[str, Any] = dict(
        exchange_id="binance",
        urls={"api": {"public": base + "/api/v3", "private": base + "/api/v3",
                      "sapi": base + "/sapi/v1", "ws": {"spot": emulator.ws_url + "/ws"}}},
        # with keys ccxt's binance also loads margin pairs (sapi) unless told not to
        options={"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                 "fetchMargins": False},
    )
    values.update(extra)
    return CcxtSettings(**values)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_ccxt_trading_through_signed_endpoints() -> None:
    async def main() -> None:
        em = SignedBinanceEmulator(("BTC/USDT", "ETH/USDT"), tick_interval=None)
        await em.start()
        conn = CcxtConnector(settings_for(em, api_key=KEY, api_secret=SECRET), make_context())
        try:
            await conn.load_markets()
            order = await conn.place_order("BTC/USDT", Side.BUY, "LIMIT", 0.01, 59000.0)
            assert order["id"] == "1" and order["side"] == "buy" and order["amount"] == 0.01
            method, path, params = em.requests[-1]
            assert (method, path) == ("POST", "/api/v3/order")
            assert params["symbol"] == "BTCUSDT" and params["side"] == "BUY"
            assert float(params["price"]) == 59000.0 and float(params["quantity"]) == 0.01
            assert await conn.cancel_order("BTC/USDT", order["id"]) is True
            assert em.orders[1]["status"] == "CANCELED"
            assert await conn.get_balances() == {"BTC": 1.25, "USDT": 1000.5}
            assert await conn.get_withdrawal_fee("USDT", "trx") == 1.5
            assert await conn.get_withdrawal_fee("USDT", "ETH") == 4.2
            with pytest.raises(ArbotError):
                await conn.get_withdrawal_fee("USDT", "SOL")
            assert em.rejected == 0
        finally:
            await conn.close()
            await em.stop()

    run(main())


def test_ccxt_wrong_secret_is_rejected_by_the_venue() -> None:
    async def main() -> None:
        em = SignedBinanceEmulator(("BTC/USDT",), tick_interval=None)
        await em.start()
        conn = CcxtConnector(settings_for(em, api_key=KEY, api_secret="wrong"), make_context())
        try:
            await conn.load_markets()
            with pytest.raises(Exception, match="Signature"):
                await conn.get_balances()
            assert em.rejected == 1
        finally:
            await conn.close()
            await em.stop()

    run(main())


def test_ccxt_trading_without_keys_raises_the_base_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BINANCE_API_KEY", raising=False)
    monkeypatch.delenv("BINANCE_API_SECRET", raising=False)

    async def main() -> None:
        conn = CcxtConnector(CcxtSettings(exchange_id="binance"), make_context())
        try:
            with pytest.raises(ArbotError, match="does not support trading"):
                await conn.place_order("BTC/USDT", Side.BUY, "LIMIT", 1.0, 1.0)
            with pytest.raises(ArbotError, match="does not support trading"):
                await conn.cancel_order("BTC/USDT", "1")
            with pytest.raises(ArbotError, match="does not support trading"):
                await conn.get_balances()
            with pytest.raises(ArbotError, match="does not support withdrawals"):
                await conn.get_withdrawal_fee("USDT", "TRX")
        finally:
            await conn.close()

    run(main())


def test_ccxt_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "k-env")
    monkeypatch.setenv("KRAKEN_API_SECRET", "s-env")
    s = CcxtSettings(exchange_id="kraken")
    assert s.has_credentials
    assert s.api_key.get_secret_value() == "k-env"
    assert "k-env" not in repr(s) and "s-env" not in repr(s)
    explicit = CcxtSettings(exchange_id="kraken", api_key="mine", api_secret="x")
    assert explicit.api_key.get_secret_value() == "mine"
    monkeypatch.delenv("KRAKEN_API_KEY")
    monkeypatch.delenv("KRAKEN_API_SECRET")
    assert not CcxtSettings(exchange_id="kraken").has_credentials
