"""OKX v5 spot trading gateway: signed REST orders, balances, fees, networks and the private
``orders`` channel, on top of :class:`arbot.trading.rest_gateway.RestTradingGateway`.

Venue rules applied here (``shared/exchanges/okx.md`` §7): ``tdMode=cash``; ``ordType`` is
``limit`` / ``ioc`` / ``fok`` / ``post_only`` / ``market`` (a market order's ``sz`` is in base:
``tgtCcy=base_ccy``); client ids in ``clOrdId`` (1–32 letters and digits; a duplicate is
51016); errors come in the body: ``code`` and per order ``sCode``/``sMsg``; 50102 (timestamp
expired) is a clock skew; 5xx and 50001/50004/50013 are ambiguous. The place answer is an ack
(``ordId``): the returned state is NEW until the stream or a query says more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from arbot.connectors.parsing import number
from arbot.events import Side
from arbot.market import MarketInfo
from arbot.trading.errors import (
    AmbiguousOrderState,
    AuthenticationFailed,
    ClockSkew,
    DuplicateClientId,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    TradingError,
)
from arbot.trading.precision import PreparedOrder
from arbot.trading.private_stream import private_stream
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signing import ApiCredentials, SignedRequest, compact_json
from arbot.trading.stream_login import op_login_reply
from arbot.trading.types import (
    Balance,
    DepositWithdrawNetwork,
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
    OrderType,
    OrderUpdate,
    TimeInForce,
    TradingFee,
    TransferState,
    WalletTransfer,
)
from arbot.trading.wallet import amount_text

from arbot_okx.markets import parse_instruments
from arbot_okx.signing import OkxSigner

__all__ = ["OkxTradingGateway", "order_state_from_okx"]

VENUE = "okx"
_STATE = {
    "live": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "mmp_canceled": OrderStatus.CANCELLED,
}
_AUTH = {"50103", "50104", "50105", "50106", "50107", "50111", "50113", "50114", "50100", "50101"}
_AMBIGUOUS = {"50001", "50004", "50013", "50026"}
_NOT_FOUND = {"51603", "51400", "51401", "51402"}
_SIDE = {Side.BUY: "buy", Side.SELL: "sell"}
_ORD_TYPE = {
    TimeInForce.GTC: "limit",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
    TimeInForce.POST_ONLY: "post_only",
}


def order_state_from_okx(raw: Mapping[str, Any], symbol: str) -> OrderState:
    """An order record (query, pending list, ``orders`` push) as an OrderState."""
    filled = number(raw.get("accFillSz"))
    avg = number(raw.get("avgPx"))
    return OrderState(
        venue=VENUE,
        symbol=symbol,
        order_id=str(raw.get("ordId", "")),
        client_id=str(raw.get("clOrdId", "")),
        status=_STATE.get(str(raw.get("state")), OrderStatus.UNKNOWN),
        side=Side.BUY if raw.get("side") == "buy" else Side.SELL,
        quantity=number(raw.get("sz")),
        filled=filled,
        price=number(raw.get("px")) or None,
        average_price=avg if filled > 0 and avg else None,
        ts=number(raw.get("uTime") or raw.get("cTime")) / 1000.0,
    )


#: the rate-limit key of order placement (the path alone is the key of order queries)
PLACE_ENDPOINT = "POST /api/v5/trade/order"


class OkxTradingGateway(RestTradingGateway):
    """OKX spot private API (see the module docstring). ``ws_url`` is the WebSocket base
    (``wss://ws.okx.com:8443``); the private stream is ``<ws_url>/ws/v5/private``."""

    #: requests per 2 s per endpoint (TRD §3.1); placing an order has its own budget of 60 per
    #: 2 s (per instrument at OKX: per endpoint here, the stricter reading), not shared with the
    #: order queries of the same path.
    rate_limit = {
        "type": "per_endpoint",
        "default_limit": 20,
        "window": 2,
        "limits": {PLACE_ENDPOINT: 60},
    }

    venue = VENUE
    client_id_max_len = 32
    venue_symbol_separator = "-"

    def __init__(
        self,
        credentials: ApiCredentials,
        *,
        rest_url: str = "https://www.okx.com",
        ws_url: str = "wss://ws.okx.com:8443",
        **kwargs: Any,
    ) -> None:
        super().__init__(credentials, rest_url=rest_url, **kwargs)
        self.signer = OkxSigner(credentials)
        self.ws_url = ws_url.rstrip("/")

    # -- venue parts -------------------------------------------------------------------------

    def _sign(self, method: str, path: str, params: Mapping[str, object], ts_ms: int) -> SignedRequest:
        return self.signer.sign(method, path, params, ts_ms)

    def _error_fields(self, body: Any) -> tuple[str, str] | None:
        if not isinstance(body, dict) or str(body.get("code", "0")) == "0":
            return None
        code, msg = str(body.get("code")), str(body.get("msg", ""))
        data = body.get("data")
        if code in ("1", "2") and isinstance(data, list) and data and isinstance(data[0], dict):
            code, msg = str(data[0].get("sCode", code)), str(data[0].get("sMsg", msg))
        return code, msg

    def _classify(self, status: int, code: str, message: str) -> TradingError:
        if code == "50102":
            return ClockSkew(VENUE, message, code)
        if code in _AUTH or status == 401:
            return AuthenticationFailed(VENUE, message, code)
        if code in ("50011", "50061") or status == 429:
            return RateLimited(VENUE, message, code)
        if code in _AMBIGUOUS or status >= 500:
            return AmbiguousOrderState(VENUE, message, code)
        if code == "51016":
            return DuplicateClientId(VENUE, message, code)
        if code in _NOT_FOUND:
            return OrderNotFound(VENUE, message, code)
        return OrderRejected(VENUE, message, code)

    async def _server_time_ms(self) -> int:
        body = await self.public("/api/v5/public/time")
        return int(body["data"][0]["ts"])

    async def _load_markets(self) -> list[MarketInfo]:
        return parse_instruments(await self.public("/api/v5/public/instruments", {"instType": "SPOT"}))

    # -- orders ------------------------------------------------------------------------------

    async def _submit(self, request: OrderRequest, prepared: PreparedOrder | None) -> OrderState:
        assert prepared is not None
        params: dict[str, object] = {
            "instId": self.venue_symbol(request.symbol),
            "tdMode": "cash",
            "side": _SIDE[request.side],
            "clOrdId": request.client_id,
        }
        if request.order_type is OrderType.MARKET:
            params["ordType"] = "market"
            params["sz"] = prepared.quantity
            params["tgtCcy"] = "base_ccy"
        else:
            params["ordType"] = _ORD_TYPE[request.time_in_force]
            params["sz"] = prepared.quantity
            params["px"] = prepared.price
        body = await self.signed(
            "POST", "/api/v5/trade/order", params, order_entry=True, endpoint=PLACE_ENDPOINT
        )
        ack = body["data"][0]
        order_id, ts = str(ack.get("ordId", "")), number(ack.get("ts")) / 1000.0
        return self.accepted(request, prepared.quantity, prepared.price, order_id, ts)

    async def get_order(self, symbol: str, client_id: str) -> OrderState:
        """The order by ``clOrdId``."""
        body = await self.signed(
            "GET", "/api/v5/trade/order", {"instId": self.venue_symbol(symbol), "clOrdId": client_id}
        )
        if not body.get("data"):
            raise OrderNotFound(VENUE, f"order {client_id} does not exist", "51603")
        return order_state_from_okx(body["data"][0], symbol)

    async def cancel_order(self, symbol: str, client_id: str) -> OrderState:
        """Cancel by ``clOrdId``; the state after the cancel (a query)."""
        await self.signed(
            "POST", "/api/v5/trade/cancel-order", {"instId": self.venue_symbol(symbol), "clOrdId": client_id}
        )
        return await self.get_order(symbol, client_id)

    async def cancel_all(self, symbol: str) -> Sequence[OrderState]:
        """Cancel every open order of ``symbol`` (``cancel-batch-orders``, 20 per request)."""
        pending = await self.open_orders(symbol)
        inst = self.venue_symbol(symbol)
        for i in range(0, len(pending), 20):
            batch = [{"instId": inst, "ordId": o.order_id} for o in pending[i : i + 20]]
            await self._signed_list("/api/v5/trade/cancel-batch-orders", batch)
        return [await self.get_order(symbol, o.client_id) for o in pending]

    async def _signed_list(self, path: str, items: list[dict[str, str]]) -> Any:
        """A POST whose body is a JSON array (batch endpoints)."""
        return await self.send_signed(self.signer.sign_body("POST", path, compact_json(items), self.now_ms()))

    async def open_orders(self, symbol: str | None = None) -> Sequence[OrderState]:
        """``orders-pending`` (SPOT)."""
        params: dict[str, object] = {"instType": "SPOT"}
        if symbol:
            params["instId"] = self.venue_symbol(symbol)
        body = await self.signed("GET", "/api/v5/trade/orders-pending", params)
        return [order_state_from_okx(o, symbol or self.unified_symbol(o["instId"])) for o in body["data"]]

    async def recent_fills(self, symbol: str, since: float | None = None) -> Sequence[Fill]:
        """``trade/fills`` of ``symbol`` (fees reported negative by OKX are returned positive)."""
        params: dict[str, object] = {"instType": "SPOT", "instId": self.venue_symbol(symbol)}
        if since is not None:
            params["begin"] = str(int(since * 1000))
        body = await self.signed("GET", "/api/v5/trade/fills", params)
        return [
            Fill(
                venue=VENUE,
                symbol=symbol,
                order_id=str(f["ordId"]),
                client_id=str(f.get("clOrdId", "")),
                trade_id=str(f["tradeId"]),
                side=Side.BUY if f.get("side") == "buy" else Side.SELL,
                price=number(f["fillPx"]),
                quantity=number(f["fillSz"]),
                fee=-number(f.get("fee")),
                fee_asset=str(f.get("feeCcy", "")),
                ts=number(f.get("ts")) / 1000.0,
                is_maker=f.get("execType") == "M",
            )
            for f in body["data"]
        ]

    async def balances(self) -> dict[str, Balance]:
        """``account/balance``: available and frozen per currency."""
        body = await self.signed("GET", "/api/v5/account/balance")
        details = body["data"][0]["details"] if body["data"] else []
        return {
            d["ccy"]: Balance(d["ccy"], number(d.get("availBal")), number(d.get("frozenBal")))
            for d in details
        }

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """``account/trade-fee`` per symbol (OKX's negative rates are charges)."""
        out: dict[str, TradingFee] = {}
        for symbol in symbols:
            body = await self.signed(
                "GET", "/api/v5/account/trade-fee", {"instType": "SPOT", "instId": self.venue_symbol(symbol)}
            )
            row = body["data"][0]
            out[symbol] = TradingFee(symbol, -number(row["maker"]), -number(row["taker"]))
        return out

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """``asset/currencies``: one entry per chain (``USDT-TRC20`` -> network ``TRC20``)."""
        body = await self.signed("GET", "/api/v5/asset/currencies", {"ccy": asset})
        return [
            DepositWithdrawNetwork(
                asset=asset,
                network=str(c["chain"]).partition("-")[2] or str(c["chain"]),
                withdraw_fee=number(c.get("fee") or c.get("minFee")),
                withdraw_min=number(c.get("minWd")),
                deposit_enabled=bool(c.get("canDep")),
                withdraw_enabled=bool(c.get("canWd")),
                confirmations=int(number(c.get("minDepArrivalConfirm"))),
            )
            for c in body["data"]
            if c.get("ccy") == asset
        ]

    # -- wallet ------------------------------------------------------------------------------

    supports_withdrawals = True

    @staticmethod
    def _transfer(kind: str, r: Mapping[str, Any]) -> WalletTransfer:
        """An ``asset/withdrawal-history`` / ``deposit-history`` entry (``state`` ``2`` done;
        a withdrawal's ``-2``/``-1`` cancelled/failed; a deposit's ``1`` credited too)."""
        state_code = str(r.get("state", ""))
        if state_code == "2" or (kind == "deposit" and state_code == "1"):
            state = TransferState.COMPLETED
        elif kind == "withdrawal" and state_code in ("-2", "-1"):
            state = TransferState.FAILED
        else:
            state = TransferState.PENDING
        chain = str(r.get("chain", ""))
        return WalletTransfer(
            VENUE,
            kind,
            str(r.get("wdId") or r.get("depId") or ""),
            str(r.get("ccy", "")),
            chain.partition("-")[2] or chain,
            number(r.get("amt")),
            number(r.get("fee")),
            state,
            str(r.get("toAddr") or r.get("to") or ""),
            str(r.get("txId", "")),
            number(r.get("ts")) / 1000.0,
        )

    async def withdraw(self, asset: str, network: str, amount: float, address: str) -> str:
        """``POST /api/v5/asset/withdrawal`` on chain (``dest`` 4: on chain); the ``wdId``."""
        params = {
            "ccy": asset,
            "amt": amount_text(amount),
            "dest": "4",
            "toAddr": address,
            "chain": f"{asset}-{network}",
        }
        body = await self.signed("POST", "/api/v5/asset/withdrawal", params, order_entry=True)
        return str(body["data"][0]["wdId"])

    async def withdrawal(self, withdrawal_id: str) -> WalletTransfer:
        """``GET /api/v5/asset/withdrawal-history?wdId=``."""
        body = await self.signed("GET", "/api/v5/asset/withdrawal-history", {"wdId": withdrawal_id})
        for r in body["data"]:
            if str(r.get("wdId")) == withdrawal_id:
                return self._transfer("withdrawal", r)
        raise OrderNotFound(VENUE, f"no withdrawal {withdrawal_id}")

    async def deposits(self, asset: str | None = None) -> Sequence[WalletTransfer]:
        """``GET /api/v5/asset/deposit-history``."""
        body = await self.signed("GET", "/api/v5/asset/deposit-history", {"ccy": asset} if asset else {})
        return [self._transfer("deposit", r) for r in body["data"]]

    # -- private stream ----------------------------------------------------------------------

    def updates(self) -> AsyncIterator[OrderUpdate]:
        """The ``orders`` channel (SPOT) of ``/ws/v5/private``, with login, reconnect and a REST
        reconcile after each reconnect."""
        return private_stream(
            VENUE,
            self.ws_url + "/ws/v5/private",
            login=lambda: compact_json(
                {"op": "login", "args": [self.signer.login_args(self.now_ms() // 1000)]}
            ),
            login_reply=op_login_reply,
            subscribe=[
                compact_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]})
            ],
            parse=self._parse_push,
            reconcile=self.reconcile_tracked,
        )

    def _parse_push(self, msg: Any) -> list[OrderUpdate]:
        if not isinstance(msg, dict) or (msg.get("arg") or {}).get("channel") != "orders":
            return []
        out = []
        for o in msg.get("data") or []:
            symbol = self.unified_symbol(str(o.get("instId")))
            state = order_state_from_okx(o, symbol)
            fills: tuple[Fill, ...] = ()
            if o.get("tradeId") and number(o.get("fillSz")) > 0:
                fills = (
                    Fill(
                        venue=VENUE,
                        symbol=symbol,
                        order_id=state.order_id,
                        client_id=state.client_id,
                        trade_id=str(o["tradeId"]),
                        side=state.side,
                        price=number(o.get("fillPx")),
                        quantity=number(o.get("fillSz")),
                        fee=-number(o.get("fillFee")),
                        fee_asset=str(o.get("fillFeeCcy", "")),
                        ts=number(o.get("fillTime") or o.get("uTime")) / 1000.0,
                        is_maker=o.get("execType") == "M",
                    ),
                )
            self.forget_if_done(state)
            out.append(OrderUpdate(state=state, fills=fills, seq=number(o.get("uTime")), source="stream"))
        return out
