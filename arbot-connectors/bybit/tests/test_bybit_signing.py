"""Bybit v5 signing: byte-equality with ccxt's own ``sign()`` (headers, query, body), WS auth."""

from __future__ import annotations

import hashlib
import hmac

import ccxt
import pytest
from arbot.trading.signing import ApiCredentials
from arbot_bybit.signing import BybitSigner

KEY, SECRET, TS = "XXXXXXXXXXXXXXXXXX", "YYYYsecretYYYY/+=", 1_700_000_123_456
CCXT_ONLY = {"Referer"}  # ccxt's broker tag on POST, not part of the signature


def _ccxt() -> ccxt.bybit:
    ex = ccxt.bybit({"apiKey": KEY, "secret": SECRET})
    ex.options["timeDifference"] = 0
    ex.options["recvWindow"] = 5000
    ex.milliseconds = lambda: TS
    return ex


CASES = [
    (
        "POST",
        "v5/order/create",
        {
            "category": "spot",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.0001",
            "price": "60000.1",
            "timeInForce": "GTC",
            "orderLinkId": "arbot-1a2b",
        },
    ),
    ("GET", "v5/order/realtime", {"category": "spot", "symbol": "BTCUSDT", "orderLinkId": "arbot-1a2b"}),
    ("GET", "v5/account/wallet-balance", {"accountType": "UNIFIED"}),
    ("DELETE", "v5/order/cancel", {"category": "spot", "symbol": "BTCUSDT", "orderLinkId": "arbot-1a2b"}),
]


@pytest.mark.parametrize(("method", "path", "params"), CASES)
def test_signed_request_is_byte_equal_to_ccxt(method: str, path: str, params: dict[str, object]) -> None:
    theirs = _ccxt().sign(path, ["private"], method, dict(params))
    ours = BybitSigner(ApiCredentials(KEY, secret=SECRET)).sign(method, "/" + path, params, TS)
    assert "https://api.bybit.com" + ours.path_with_query == theirs["url"]
    assert ours.body == theirs["body"]
    assert ours.headers == {k: v for k, v in theirs["headers"].items() if k not in CCXT_ONLY}


def test_ws_auth_signature() -> None:
    args = BybitSigner(ApiCredentials(KEY, secret=SECRET)).auth_args(1_700_000_200_000)
    want = hmac.new(SECRET.encode(), b"GET/realtime1700000200000", hashlib.sha256).hexdigest()
    assert args == [KEY, 1_700_000_200_000, want]
