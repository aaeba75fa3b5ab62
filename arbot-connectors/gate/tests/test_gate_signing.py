"""Gate APIv4 signing equals ccxt 4.5.x's ``sign()`` byte for byte (headers, URL, body) for
GET with a query, POST with a JSON body and DELETE, plus the WebSocket channel signature."""

from __future__ import annotations

import hashlib
import hmac

import ccxt
import pytest
from arbot.trading.signing import ApiCredentials
from arbot_gate.signing import GateSigner

KEY, SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90", "9f8e7d6c5b4a39281706f5e4d3c2b1a0-gate-secret"
NOW_MS = 1_751_273_822_895
SIGNED = ("KEY", "Timestamp", "SIGN")


def _ccxt(path: str, method: str, params: dict[str, str]) -> dict[str, object]:
    ex = ccxt.gate({"apiKey": KEY, "secret": SECRET})
    ex.options["timeDifference"] = 0
    ex.milliseconds = lambda: NOW_MS  # pin ccxt's clock on the instance
    out: dict[str, object] = ex.sign(path, ["private", "spot"], method, dict(params))
    return out


@pytest.mark.parametrize(
    ("method", "ccxt_path", "params", "path", "query", "body"),
    [
        ("GET", "orders", {"currency_pair": "BTC_USDT", "status": "open"}, "/spot/orders",
         {"currency_pair": "BTC_USDT", "status": "open"}, None),
        ("GET", "accounts", {}, "/spot/accounts", None, None),
        ("POST", "orders",
         {"currency_pair": "BTC_USDT", "type": "limit", "account": "spot", "side": "buy",
          "amount": "0.001", "price": "67000.5", "time_in_force": "ioc", "text": "t-arb-1"},
         "/spot/orders", None,
         {"currency_pair": "BTC_USDT", "type": "limit", "account": "spot", "side": "buy",
          "amount": "0.001", "price": "67000.5", "time_in_force": "ioc", "text": "t-arb-1"}),
        ("DELETE", "orders/{order_id}", {"order_id": "t-arb-1", "currency_pair": "BTC_USDT"},
         "/spot/orders/t-arb-1", {"currency_pair": "BTC_USDT"}, None),
    ],
)
def test_signature_equals_ccxt(method: str, ccxt_path: str, params: dict[str, str], path: str,
                               query: dict[str, str] | None, body: dict[str, str] | None) -> None:
    theirs = _ccxt(ccxt_path, method, params)
    ours = GateSigner(ApiCredentials(KEY, secret=SECRET)).sign(method, path, NOW_MS // 1000, query, body)
    headers = theirs["headers"]
    assert isinstance(headers, dict)
    assert {k: ours.headers[k] for k in SIGNED} == {k: headers[k] for k in SIGNED}
    assert "https://api.gateio.ws" + ours.path_with_query == theirs["url"]
    assert ours.body == theirs["body"]


def test_ws_channel_signature_is_the_documented_hmac() -> None:
    auth = GateSigner(ApiCredentials(KEY, secret=SECRET)).ws_auth("spot.orders", "subscribe", 1751273822)
    expected = hmac.new(SECRET.encode(), b"channel=spot.orders&event=subscribe&time=1751273822",
                        hashlib.sha512).hexdigest()
    assert auth == {"method": "api_key", "KEY": KEY, "SIGN": expected}
