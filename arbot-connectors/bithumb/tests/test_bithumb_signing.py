"""Bithumb signing equals ccxt 4.5.x's ``sign()`` byte for byte: with ccxt's uuid nonce and
clock pinned on the instance, the whole JWT (HS256, with the mandatory ms ``timestamp``), the URL
and the JSON body are the same for GET with a query, POST with a body and DELETE."""

from __future__ import annotations

import hashlib

import ccxt
import jwt
import pytest
from arbot.trading.signing import ApiCredentials
from arbot_bithumb.signing import BithumbSigner

KEY, SECRET = "bithumb-access-7Q2n4K8x", "bithumb-secret-Zk3R9pL1mN5vB7cX-4a8f2e"
NONCE = "5a1c9e1e-2f0b-4c61-8f73-6f0a7d1e2b3c"
NOW_MS = 1_751_273_822_895


def _ccxt(path: str, method: str, params: dict[str, str]) -> dict[str, object]:
    ex = ccxt.bithumb({"apiKey": KEY, "secret": SECRET})
    ex.uuid = lambda: NONCE  # pin ccxt's nonce and clock on the instance
    ex.milliseconds = lambda: NOW_MS
    out: dict[str, object] = ex.sign(path, ["private"], method, dict(params))
    return out


@pytest.mark.parametrize(
    ("method", "ccxt_path", "params", "path", "query", "body"),
    [
        ("GET", "v1/orders/chance", {"market": "KRW-BTC"}, "/v1/orders/chance", {"market": "KRW-BTC"}, None),
        ("GET", "v1/accounts", {}, "/v1/accounts", None, None),
        ("POST", "v2/orders",
         {"market": "KRW-BTC", "side": "bid", "order_type": "limit", "price": "137000000",
          "volume": "0.001", "time_in_force": "ioc", "client_order_id": "arb-2"},
         "/v2/orders", None,
         {"market": "KRW-BTC", "side": "bid", "order_type": "limit", "price": "137000000",
          "volume": "0.001", "time_in_force": "ioc", "client_order_id": "arb-2"}),
        ("DELETE", "v2/order", {"client_order_id": "arb-3"}, "/v2/order", {"client_order_id": "arb-3"}, None),
    ],
)
def test_signature_equals_ccxt(method: str, ccxt_path: str, params: dict[str, str], path: str,
                               query: dict[str, str] | None, body: dict[str, str] | None) -> None:
    theirs = _ccxt(ccxt_path, method, params)
    signer = BithumbSigner(ApiCredentials(KEY, secret=SECRET), new_nonce=lambda: NONCE)
    ours = signer.sign(method, path, NOW_MS, query, body)
    headers = theirs["headers"]
    assert isinstance(headers, dict)
    assert ours.headers["Authorization"] == headers["Authorization"]
    assert "https://api.bithumb.com" + ours.path_with_query == theirs["url"]
    assert ours.body == theirs["body"]
    claims = jwt.decode(ours.headers["Authorization"][7:], SECRET, algorithms=["HS256"])
    assert claims["timestamp"] == NOW_MS and claims["nonce"] == NONCE
    if params:
        text = "&".join(f"{k}={v}" for k, v in params.items())
        assert claims["query_hash"] == hashlib.sha512(text.encode()).hexdigest()


def test_values_are_encoded_like_encode_uri_component() -> None:
    signer = BithumbSigner(ApiCredentials(KEY, secret=SECRET), new_nonce=lambda: NONCE)
    req = signer.sign("GET", "/v1/x", NOW_MS, {"a b": "c/d~e'(f)", "ids": ["1", "2"]})
    assert req.path_with_query == "/v1/x?a%20b=c%2Fd~e'(f)&ids[]=1&ids[]=2"
