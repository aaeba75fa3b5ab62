"""OKX signing: byte-equality with ccxt's own ``sign()`` (headers, query, body), WS login."""

from __future__ import annotations

import base64
import hashlib
import hmac

import ccxt
import pytest
from arbot.errors import ArbotError
from arbot.trading.signing import ApiCredentials
from arbot_okx.signing import OkxSigner

KEY, SECRET, PASS, TS = (
    "0f2a7c1e-aaaa-bbbb-cccc-1234567890ab",
    "9F3D/secret+",
    "Pass phrase!",
    1_700_000_123_456,
)


def _ccxt() -> ccxt.okx:
    ex = ccxt.okx({"apiKey": KEY, "secret": SECRET, "password": PASS})
    ex.options["timeDifference"] = 0
    ex.milliseconds = lambda: TS
    return ex


CASES = [
    (
        "POST",
        "trade/order",
        {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "limit",
            "px": "60000.1",
            "sz": "0.0001",
            "clOrdId": "arbot1a2b",
        },
    ),
    ("GET", "trade/order", {"instId": "BTC-USDT", "clOrdId": "arbot1a2b"}),
    ("GET", "account/balance", {}),
    ("DELETE", "trade/cancel-order", {"instId": "BTC-USDT", "clOrdId": "arbot1a2b"}),
    ("POST", "trade/cancel-order", {"instId": "BTC-USDT", "clOrdId": "arbot1a2b"}),
]


@pytest.mark.parametrize(("method", "path", "params"), CASES)
def test_signed_request_is_byte_equal_to_ccxt(method: str, path: str, params: dict[str, object]) -> None:
    theirs = _ccxt().sign(path, ["private"], method, dict(params))
    ours = OkxSigner(ApiCredentials(KEY, secret=SECRET, passphrase=PASS)).sign(
        method, "/api/v5/" + path, params, TS
    )
    assert "https://www.okx.com" + ours.path_with_query == theirs["url"]
    assert ours.body == theirs["body"]
    assert ours.headers == theirs["headers"]
    assert ours.headers["OK-ACCESS-TIMESTAMP"] == "2023-11-14T22:15:23.456Z"


def test_ws_login_signature() -> None:
    args = OkxSigner(ApiCredentials(KEY, secret=SECRET, passphrase=PASS)).login_args(1538054050)
    want = base64.b64encode(
        hmac.new(SECRET.encode(), b"1538054050GET/users/self/verify", hashlib.sha256).digest()
    )
    assert args == {"apiKey": KEY, "passphrase": PASS, "timestamp": "1538054050", "sign": want.decode()}


def test_passphrase_is_required() -> None:
    with pytest.raises(ArbotError, match="passphrase"):
        OkxSigner(ApiCredentials(KEY, secret=SECRET))
