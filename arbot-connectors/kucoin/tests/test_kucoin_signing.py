"""KuCoin signing equals ccxt 4.5.x's ``sign()`` (an independent implementation) byte for byte:
the signed headers, the endpoint with its query and the JSON body, for GET, POST and DELETE."""

from __future__ import annotations

import ccxt
import pytest
from arbot.trading.errors import AuthenticationFailed
from arbot.trading.signing import ApiCredentials
from arbot_kucoin.signing import KucoinSigner

KEY, SECRET, PASSPHRASE = "5f1d2e3c4b5a69788796a5b4", "0d6c3a0e-secret-4f7f-9d3b", "my passphrase"
NOW_MS = 1_751_273_822_895
SIGNED = ("KC-API-KEY", "KC-API-SIGN", "KC-API-TIMESTAMP", "KC-API-PASSPHRASE", "KC-API-KEY-VERSION")


def _ccxt(path: str, method: str, params: dict[str, str]) -> dict[str, object]:
    ex = ccxt.kucoin({"apiKey": KEY, "secret": SECRET, "password": PASSPHRASE})
    ex.milliseconds = lambda: NOW_MS  # pin ccxt's clock on the instance
    out: dict[str, object] = ex.sign(path, ["private"], method, dict(params))
    return out


def _ours() -> KucoinSigner:
    return KucoinSigner(ApiCredentials(KEY, secret=SECRET, passphrase=PASSPHRASE))


@pytest.mark.parametrize(
    ("method", "ccxt_path", "params", "path", "query", "body"),
    [
        ("GET", "accounts", {"currency": "BTC", "type": "trade"}, "/api/v1/accounts",
         {"currency": "BTC", "type": "trade"}, None),
        ("GET", "hf/orders/client-order/{clientOid}", {"clientOid": "arb-1", "symbol": "BTC-USDT"},
         "/api/v1/hf/orders/client-order/arb-1", {"symbol": "BTC-USDT"}, None),
        ("POST", "hf/orders",
         {"clientOid": "arb-2", "side": "buy", "symbol": "BTC-USDT", "type": "limit",
          "price": "50000.1", "size": "0.00001", "timeInForce": "IOC"},
         "/api/v1/hf/orders", None,
         {"clientOid": "arb-2", "side": "buy", "symbol": "BTC-USDT", "type": "limit",
          "price": "50000.1", "size": "0.00001", "timeInForce": "IOC"}),
        ("DELETE", "hf/orders/client-order/{clientOid}", {"clientOid": "arb-3", "symbol": "ETH-USDT"},
         "/api/v1/hf/orders/client-order/arb-3", {"symbol": "ETH-USDT"}, None),
    ],
)
def test_signature_equals_ccxt(method: str, ccxt_path: str, params: dict[str, str], path: str,
                               query: dict[str, str] | None, body: dict[str, str] | None) -> None:
    theirs = _ccxt(ccxt_path, method, params)
    ours = _ours().sign(method, path, NOW_MS, query=query, body=body)
    headers = theirs["headers"]
    assert isinstance(headers, dict)
    assert {k: ours.headers[k] for k in SIGNED} == {k: headers[k] for k in SIGNED}
    assert "https://api.kucoin.com" + ours.path_with_query == theirs["url"]
    assert ours.body == theirs["body"]


def test_a_different_secret_or_time_changes_the_signature() -> None:
    base = _ours().sign("GET", "/api/v1/accounts", NOW_MS).headers["KC-API-SIGN"]
    other = KucoinSigner(ApiCredentials(KEY, secret=SECRET + "x", passphrase=PASSPHRASE))
    assert other.sign("GET", "/api/v1/accounts", NOW_MS).headers["KC-API-SIGN"] != base
    assert _ours().sign("GET", "/api/v1/accounts", NOW_MS + 1).headers["KC-API-SIGN"] != base


def test_a_key_without_passphrase_is_refused_and_secrets_stay_out_of_repr() -> None:
    with pytest.raises(AuthenticationFailed, match="passphrase"):
        KucoinSigner(ApiCredentials(KEY, secret=SECRET))
    creds = ApiCredentials(KEY, secret=SECRET, passphrase=PASSPHRASE)
    for text in (repr(_ours()), repr(creds), str(creds)):
        assert SECRET not in text and PASSPHRASE not in text and KEY not in text
