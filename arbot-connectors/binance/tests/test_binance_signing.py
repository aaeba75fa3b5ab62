"""Binance signing: the official test vector, and byte-equality with ccxt's own ``sign()``."""

from __future__ import annotations

import hashlib
import hmac

import ccxt
import pytest
from arbot.trading.signing import ApiCredentials
from arbot_binance.signing import BinanceSigner

KEY, SECRET, TS = (
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
    "s3cr3t/=+",
    1_700_000_123_456,
)


def test_official_binance_test_vector() -> None:
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    payload = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    creds = ApiCredentials("k", secret=secret)
    assert (
        creds.hmac_sha256_hex(payload) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )
    assert hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest() == creds.hmac_sha256_hex(
        payload
    )


def _ccxt() -> ccxt.binance:
    ex = ccxt.binance({"apiKey": KEY, "secret": SECRET})
    ex.options["timeDifference"] = 0
    ex.options["recvWindow"] = 5000
    ex.milliseconds = lambda: TS
    return ex


CASES = [
    (
        "POST",
        "order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.00100",
            "price": "60000.01",
            "newClientOrderId": "arbot-x 1",
        },
    ),
    ("GET", "order", {"symbol": "BTCUSDT", "origClientOrderId": "arbot-x1"}),
    ("DELETE", "order", {"symbol": "BTCUSDT", "origClientOrderId": "arbot-x1"}),
    ("GET", "account", {"omitZeroBalances": True}),
    ("DELETE", "openOrders", {"symbol": "ETHBTC"}),
]


@pytest.mark.parametrize(("method", "path", "params"), CASES)
def test_signed_request_is_byte_equal_to_ccxt(method: str, path: str, params: dict[str, object]) -> None:
    theirs = _ccxt().sign(path, ["private"], method, dict(params))
    ours = BinanceSigner(ApiCredentials(KEY, secret=SECRET)).sign(method, "/api/v3/" + path, params, TS)
    url = "https://api.binance.com" + ours.path_with_query
    assert url == theirs["url"]
    assert ours.body == theirs["body"]
    assert ours.headers == theirs["headers"]


def test_wrong_secret_changes_the_signature() -> None:
    a = BinanceSigner(ApiCredentials(KEY, secret=SECRET)).sign("GET", "/api/v3/account", {}, TS)
    b = BinanceSigner(ApiCredentials(KEY, secret=SECRET + "x")).sign("GET", "/api/v3/account", {}, TS)
    assert a.query != b.query and SECRET not in repr(ApiCredentials(KEY, secret=SECRET))
