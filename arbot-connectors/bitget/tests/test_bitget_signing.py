"""Bitget v2 signing: byte-equality with ccxt's own ``sign()`` (headers, query, body), WS login."""

from __future__ import annotations

import base64
import hashlib
import hmac

import ccxt
import pytest
from arbot.errors import ArbotError
from arbot.trading.signing import ApiCredentials
from arbot_bitget.signing import BitgetSigner

KEY, SECRET, PASS, TS = "bg_0123456789abcdef", "secret/with+chars=", "passphrase1", 1_700_000_123_456
CCXT_ONLY = {"X-CHANNEL-API-CODE"}  # ccxt's broker code, not part of the signature


def _ccxt() -> ccxt.bitget:
    ex = ccxt.bitget({"apiKey": KEY, "secret": SECRET, "password": PASS})
    ex.options["timeDifference"] = 0
    ex.milliseconds = lambda: TS
    return ex


CASES = [
    (
        "POST",
        "v2/spot/trade/place-order",
        {
            "symbol": "BTCUSDT",
            "side": "buy",
            "orderType": "limit",
            "force": "gtc",
            "price": "60000.1",
            "size": "0.0001",
            "clientOid": "arbot1a2b",
        },
    ),
    ("GET", "v2/spot/trade/orderInfo", {"symbol": "BTCUSDT", "clientOid": "arbot1a2b"}),
    ("GET", "v2/spot/account/assets", {}),
    ("DELETE", "v2/spot/trade/cancel-order", {"symbol": "BTCUSDT", "clientOid": "arbot1a2b"}),
]


@pytest.mark.parametrize(("method", "path", "params"), CASES)
def test_signed_request_is_byte_equal_to_ccxt(method: str, path: str, params: dict[str, object]) -> None:
    theirs = _ccxt().sign(path, ["private", "spot"], method, dict(params))
    ours = BitgetSigner(ApiCredentials(KEY, secret=SECRET, passphrase=PASS)).sign(
        method, "/api/" + path, params, TS
    )
    assert "https://api.bitget.com" + ours.path_with_query == theirs["url"]
    assert ours.body == theirs["body"]
    assert ours.headers == {k: v for k, v in theirs["headers"].items() if k not in CCXT_ONLY}


def test_ws_login_signature() -> None:
    args = BitgetSigner(ApiCredentials(KEY, secret=SECRET, passphrase=PASS)).login_args(1538054050)
    want = base64.b64encode(hmac.new(SECRET.encode(), b"1538054050GET/user/verify", hashlib.sha256).digest())
    assert args["sign"] == want.decode() and args["passphrase"] == PASS


def test_passphrase_is_required() -> None:
    with pytest.raises(ArbotError, match="passphrase"):
        BitgetSigner(ApiCredentials(KEY, secret=SECRET))
