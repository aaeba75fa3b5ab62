"""Bithumb's private API (current JWT API) inside the emulator, on the shared :class:`EmulatedExchange`.

Verifies requests with its own copy of Bithumb's rule: a JWT (HS256) in ``Authorization:
Bearer`` with ``access_key``, a ``nonce`` used only once, a millisecond ``timestamp`` within 30 s
of the server clock (the window is this emulator's assumption; Bithumb does not publish it),
and, when the request has parameters, ``query_hash`` = hex SHA-512 of the parameter text (the
query as sent, or the JSON body's keys in order, values percent-encoded as JavaScript's
``encodeURIComponent`` does). Failures are answered in Upbit's shape: HTTP 401 ``{"error":
{"name", "message"}}``. Serves ``POST /v2/orders`` (``order_type``, ``client_order_id``),
``GET /v1/order`` and ``DELETE /v2/order`` (by ``uuid``/``order_id`` or ``client_order_id``),
``GET /v1/orders?state=``, ``/v1/accounts``, ``/v1/orders/chance``, ``/v1/withdraws/chance`` and
``myOrder`` on ``/websocket/v1/private`` (JWT in the upgrade request). Fees in the quote (KRW).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote

import jwt
import msgspec
from aiohttp import web
from arbot.testing.emulator.exchange_models import (
    Account,
    ExchangeReject,
    RejectReason,
)
from arbot.testing.emulator.upbit_family import REJECTS, UpbitFamilyPrivateApi, order_uuid
from arbot.testing.emulator.upbit_family import err as _err
from arbot.testing.emulator.upbit_family import ok as _ok
from arbot.trading.types import OrderStatus

__all__ = ["BithumbPrivateApi", "order_uuid"]


def _uri(value: str) -> str:
    return quote(value, safe="~()*!.'")


class BithumbPrivateApi(UpbitFamilyPrivateApi):
    """The private REST API and ``myOrder`` stream of the Bithumb emulator (module docstring)."""

    venue_name = "bithumb"
    id_field = "client_order_id"
    #: JWT ``timestamp`` window (ms)
    window_ms = 30_000
    rejects = {
        **REJECTS,
        RejectReason.DUPLICATE_CLIENT_ID: (
            400,
            "duplicate_client_order_id",
            "이미 사용된 client_order_id입니다.",
        ),
    }

    def check_claims(self, claims: Mapping[str, Any], account: Account) -> web.Response | None:
        """The mandatory ``timestamp`` (ms) within :attr:`window_ms` of the server clock."""
        stamp = claims.get("timestamp")
        if not isinstance(stamp, int):
            return _err(401, "invalid_query_payload", "timestamp is required.")
        if abs(stamp - self.exchange.server_time() * 1000) > self.window_ms:
            return _err(401, "invalid_timestamp", "Invalid timestamp.")
        return None

    def authenticate(self, header: str | None, params_text: str | None) -> Account | web.Response:
        """The account of a correctly signed request, or the 401 answer."""
        if not header or not header.startswith("Bearer "):
            return _err(401, "no_authorization_token", "Authorization token does not exist.")
        token = header[7:]
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return _err(401, "jwt_verification", "Failed to verify Jwt token.")
        account = self.exchange.accounts.get(str(unverified.get("access_key", "")))
        if account is None:
            return _err(401, "invalid_access_key", "Invalid access key.")
        try:
            claims = jwt.decode(token, account.secret, algorithms=["HS256", "HS512"])
        except jwt.InvalidTokenError:
            return _err(401, "jwt_verification", "Failed to verify Jwt token.")
        nonce = str(claims.get("nonce", ""))
        if not nonce:
            return _err(401, "invalid_query_payload", "nonce is required.")
        if nonce in self.nonces:
            return _err(401, "nonce_used", "Nonce already used.")
        if params_text:
            if (
                claims.get("query_hash_alg", "SHA512") != "SHA512"
                or claims.get("query_hash") != hashlib.sha512(params_text.encode()).hexdigest()
            ):
                return _err(401, "invalid_query_payload", "Invalid query payload.")
        elif "query_hash" in claims:
            return _err(401, "invalid_query_payload", "Invalid query payload.")
        refused = self.check_claims(claims, account)
        if refused is not None:
            return refused
        self.nonces.add(nonce)
        return account

    def params_text(self, request: web.Request, body: bytes) -> tuple[str, dict[str, str]]:
        """The hashed parameter text of a request and its parameters (``encodeURIComponent``
        form of the query, or of the JSON body's keys in order)."""
        if body:
            try:
                doc = msgspec.json.decode(body)
            except msgspec.DecodeError:
                raise ExchangeReject(RejectReason.INVALID_REQUEST, "body is not JSON") from None
            if not isinstance(doc, dict):
                raise ExchangeReject(RejectReason.INVALID_REQUEST, "body is not an object")
            params = {str(k): str(v) for k, v in doc.items()}
            return "&".join(f"{_uri(k)}={_uri(v)}" for k, v in params.items()), params
        pairs = parse_qsl(request.query_string, keep_blank_values=True)
        return "&".join(f"{_uri(k)}={_uri(v)}" for k, v in pairs), dict(pairs)

    def routes(self) -> list[web.RouteDef]:
        """Bithumb's private paths."""
        p = self._private
        return [
            web.post("/v2/orders", p(self._place)),
            web.get("/v1/order", p(self._get)),
            web.delete("/v2/order", p(self._cancel)),
            web.get("/v1/orders", p(self._list)),
            web.get("/v1/accounts", p(self._accounts)),
            web.get("/v1/orders/chance", p(self._chance)),
            web.get("/v1/withdraws/chance", p(self._withdraw_chance)),
            *self.wallet_routes(),
        ]

    async def _place(self, request: web.Request, account: Account, params: Mapping[str, str]) -> web.Response:
        snap = self.place(account, params, "order_type")
        doc = self.render_order(snap)
        return _ok(
            {
                "order_id": doc["uuid"],
                "market": doc["market"],
                "side": doc["side"],
                "order_type": doc["ord_type"],
                "created_at": doc["created_at"],
                "client_order_id": snap.client_id,
            },
            201,
        )

    async def _list(self, request: web.Request, account: Account, params: Mapping[str, str]) -> web.Response:
        state = params.get("state", "wait")
        symbol = self._market_arg(params)
        if state in ("wait", "watch"):
            orders = self.exchange.open_orders(account.api_key, symbol)
        else:
            want = OrderStatus.FILLED if state == "done" else None
            orders = [
                o
                for o in reversed(self.exchange.all_orders(account.api_key, symbol))
                if o.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
                and (want is None) == (o.status is not OrderStatus.FILLED)
            ]
        return _ok([self.render_order(o) for o in orders])
