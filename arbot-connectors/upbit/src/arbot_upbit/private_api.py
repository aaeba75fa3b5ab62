"""Upbit's private API inside the emulator, on the shared :class:`EmulatedExchange`.

Verifies requests with its own copy of Upbit's rule: a JWT in ``Authorization: Bearer``
(HS256 or HS512, checked with PyJWT) with ``access_key``, a ``nonce`` used only once, and, when
the request has parameters, ``query_hash`` = hex SHA-512 of the parameter text (the query as
sent, percent-decoded, or the JSON body's keys in order). Failures are answered as Upbit does:
HTTP 401 ``{"error": {"name": "no_authorization_token" | "jwt_verification" |
"invalid_access_key" | "invalid_query_payload" | "nonce_used", "message": ...}}``. An
``identifier`` can never be used twice, even when the first request failed. Serves
``/v1/orders`` (place), ``/v1/order`` (get, cancel by ``uuid`` or ``identifier``),
``/v1/orders/open``, ``/v1/orders/closed``, ``DELETE /v1/orders/open`` (cancel all),
``/v1/accounts``, ``/v1/orders/chance``, ``/v1/withdraws/chance``, and ``myOrder`` on
``/websocket/v1/private`` (JWT in the upgrade request). Fees are charged in the quote (KRW).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from urllib.parse import parse_qsl

import jwt
import msgspec
from aiohttp import web
from arbot.testing.emulator.exchange_models import (
    Account,
    ExchangeReject,
    OrderSnapshot,
    RejectReason,
)
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.testing.emulator.upbit_family import REJECTS, UpbitFamilyPrivateApi, order_uuid
from arbot.testing.emulator.upbit_family import err as _err
from arbot.testing.emulator.upbit_family import ok as _ok
from arbot.trading.types import OrderStatus

__all__ = ["UpbitPrivateApi", "order_uuid"]


class UpbitPrivateApi(UpbitFamilyPrivateApi):
    """The private REST API and ``myOrder`` stream of the Upbit emulator (module docstring)."""

    id_field = "identifier"
    rejects = {
        **REJECTS,
        RejectReason.DUPLICATE_CLIENT_ID: (400, "duplicate_identifier", "이미 사용된 identifier입니다."),
    }

    def __init__(
        self,
        books: dict[str, ScriptedBook],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        venue: str | None = None,
    ) -> None:
        super().__init__(books, spawn, venue)
        #: identifiers ever received, accepted or not (Upbit never takes one twice)
        self.identifiers: set[tuple[str, str]] = set()

    def check_claims(self, claims: Mapping[str, Any], account: Account) -> web.Response | None:
        """Venue-specific claims (Bithumb's timestamp); None when fine."""
        return None

    def authenticate(self, header: str | None, params_text: str | None) -> Account | web.Response:
        """The account of a correctly signed request, or Upbit's 401 answer."""
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
        """The hashed parameter text of a request and its parameters: the query percent-decoded,
        or the JSON body's keys in order."""
        if body:
            try:
                doc = msgspec.json.decode(body)
            except msgspec.DecodeError:
                raise ExchangeReject(RejectReason.INVALID_REQUEST, "body is not JSON") from None
            if not isinstance(doc, dict):
                raise ExchangeReject(RejectReason.INVALID_REQUEST, "body is not an object")
            params = {str(k): str(v) for k, v in doc.items()}
            return "&".join(f"{k}={v}" for k, v in params.items()), params
        pairs = parse_qsl(request.query_string, keep_blank_values=True)
        return "&".join(f"{k}={v}" for k, v in pairs), dict(pairs)

    def routes(self) -> list[web.RouteDef]:
        """Upbit's private paths."""
        p = self._private
        return [
            web.post("/v1/orders", p(self._place)),
            web.get("/v1/order", p(self._get)),
            web.delete("/v1/order", p(self._cancel)),
            web.get("/v1/orders/open", p(self._open)),
            web.delete("/v1/orders/open", p(self._cancel_all)),
            web.get("/v1/orders/closed", p(self._closed)),
            web.get("/v1/accounts", p(self._accounts)),
            web.get("/v1/orders/chance", p(self._chance)),
            web.get("/v1/withdraws/chance", p(self._withdraw_chance)),
            *self.wallet_routes(),
        ]

    def place(self, account: Account, params: Mapping[str, str], type_field: str) -> OrderSnapshot:
        """Place an order; an identifier seen before (even refused) is refused again."""
        cid = params.get(self.id_field) or None
        if cid is not None:
            if (account.api_key, cid) in self.identifiers:
                raise ExchangeReject(RejectReason.DUPLICATE_CLIENT_ID, cid)
            self.identifiers.add((account.api_key, cid))
        return super().place(account, params, type_field)

    async def _place(self, request: web.Request, account: Account, params: Mapping[str, str]) -> web.Response:
        return _ok(self.render_order(self.place(account, params, "ord_type")), 201)

    async def _cancel_all(
        self, request: web.Request, account: Account, params: Mapping[str, str]
    ) -> web.Response:
        done = []
        for code in (params.get("pairs") or "").split(","):
            if code:
                done.extend(self.exchange.cancel_all(account.api_key, self._symbol(code)))
        orders = [
            {"uuid": order_uuid(o.order_id), "market": self._code_of[o.symbol], self.id_field: o.client_id}
            for o in done
        ]
        return _ok(
            {"success": {"count": len(orders), "orders": orders}, "failed": {"count": 0, "orders": []}}
        )

    async def _open(self, request: web.Request, account: Account, params: Mapping[str, str]) -> web.Response:
        return _ok(
            [
                self.render_order(o)
                for o in self.exchange.open_orders(account.api_key, self._market_arg(params))
            ]
        )

    async def _closed(
        self, request: web.Request, account: Account, params: Mapping[str, str]
    ) -> web.Response:
        orders = [
            o
            for o in self.exchange.all_orders(account.api_key, self._market_arg(params))
            if o.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
        ]
        return _ok([self.render_order(o) for o in reversed(orders)])
