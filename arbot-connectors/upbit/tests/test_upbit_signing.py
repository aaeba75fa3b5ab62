"""Upbit signing equals ccxt 4.5.x's ``sign()`` byte for byte: with ccxt's uuid nonce pinned on
the instance, the whole JWT (header, payload, HS256 signature), the URL and the JSON body are
the same for GET with a query, POST with a body and DELETE; PyJWT verifies the token."""

from __future__ import annotations

import hashlib

import ccxt
import jwt
import pytest
from arbot.trading.signing import ApiCredentials
from arbot_upbit.signing import UpbitSigner

KEY, SECRET = "xqAKn2fBRy8pZrlaGZsUT7OzgyHJJG1sSEqYnt8x", "a1Hs5uvK8rW2sQ7yZ9xN3bM4cD6fG0hJ-upbit"
NONCE = "0e66c0ac-7e13-43ef-91fb-2a87c2956c49"


def _ccxt(path: str, method: str, params: dict[str, str]) -> dict[str, object]:
    ex = ccxt.upbit({"apiKey": KEY, "secret": SECRET})
    ex.uuid = lambda: NONCE  # pin ccxt's nonce on the instance
    out: dict[str, object] = ex.sign(path, ["private"], method, dict(params))
    return out


@pytest.mark.parametrize(
    ("method", "ccxt_path", "params", "path", "query", "body"),
    [
        ("GET", "order", {"identifier": "arb-1"}, "/v1/order", {"identifier": "arb-1"}, None),
        ("GET", "accounts", {}, "/v1/accounts", None, None),
        ("POST", "orders",
         {"market": "KRW-BTC", "side": "bid", "ord_type": "limit", "price": "137000000",
          "volume": "0.001", "time_in_force": "ioc", "identifier": "arb-2"},
         "/v1/orders", None,
         {"market": "KRW-BTC", "side": "bid", "ord_type": "limit", "price": "137000000",
          "volume": "0.001", "time_in_force": "ioc", "identifier": "arb-2"}),
        ("DELETE", "order", {"uuid": "cdd92199-2897-4e14-9448-f923320408ad"}, "/v1/order",
         {"uuid": "cdd92199-2897-4e14-9448-f923320408ad"}, None),
    ],
)
def test_signature_equals_ccxt(method: str, ccxt_path: str, params: dict[str, str], path: str,
                               query: dict[str, str] | None, body: dict[str, str] | None) -> None:
    theirs = _ccxt(ccxt_path, method, params)
    signer = UpbitSigner(ApiCredentials(KEY, secret=SECRET), new_nonce=lambda: NONCE)
    ours = signer.sign(method, path, query, body)
    headers = theirs["headers"]
    assert isinstance(headers, dict)
    assert ours.headers["Authorization"] == headers["Authorization"]
    assert "https://api.upbit.com" + ours.path_with_query == theirs["url"]
    assert ours.body == theirs["body"]
    token = ours.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["access_key"] == KEY and claims["nonce"] == NONCE
    params_text = "&".join(f"{k}={v}" for k, v in params.items() if k in (body or query or {}))
    if params_text:
        assert claims["query_hash"] == hashlib.sha512(params_text.encode()).hexdigest()
    else:
        assert "query_hash" not in claims


def test_every_request_gets_a_fresh_nonce() -> None:
    signer = UpbitSigner(ApiCredentials(KEY, secret=SECRET))
    a, b = (jwt.decode(signer.sign("GET", "/v1/accounts").headers["Authorization"][7:], SECRET,
                       algorithms=["HS256"])["nonce"] for _ in range(2))
    assert a != b


def test_list_parameters_hash_as_bracketed_keys() -> None:
    signer = UpbitSigner(ApiCredentials(KEY, secret=SECRET), new_nonce=lambda: NONCE)
    req = signer.sign("GET", "/v1/orders/uuids", {"market": "KRW-BTC", "uuids": ["a", "b"]})
    assert req.path_with_query == "/v1/orders/uuids?market=KRW-BTC&uuids[]=a&uuids[]=b"
    claims = jwt.decode(req.headers["Authorization"][7:], SECRET, algorithms=["HS256"])
    assert claims["query_hash"] == hashlib.sha512(b"market=KRW-BTC&uuids[]=a&uuids[]=b").hexdigest()
