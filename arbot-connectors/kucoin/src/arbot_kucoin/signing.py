"""KuCoin request signing (API key version 2).

``KC-API-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + endpoint + body))`` where the
endpoint carries the query string (``/api/v1/accounts?currency=BTC``) and the body is the exact
JSON text sent (empty for GET/DELETE); ``KC-API-PASSPHRASE = base64(HMAC-SHA256(secret,
passphrase))`` for version-2 keys; ``KC-API-TIMESTAMP`` is in milliseconds and must be within
5 s of the server's clock (``shared/exchanges/kucoin.md`` §8).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

import msgspec
from arbot.trading.credentials import ApiCredentials, mask
from arbot.trading.errors import AuthenticationFailed
from arbot.trading.wire import SignedRequest

__all__ = ["KucoinSigner", "query_string"]

_json = msgspec.json.Encoder()


def query_string(params: Mapping[str, str] | None) -> str:
    """``k=v&k2=v2`` in the given order, not percent-encoded (what KuCoin signs)."""
    if not params:
        return ""
    return "&".join(f"{k}={v}" for k, v in params.items())


class KucoinSigner:
    """Signs KuCoin private requests with one API key (the secret never leaves this object)."""

    __slots__ = ("_passphrase_header", "_secret", "api_key")

    def __init__(self, credentials: ApiCredentials) -> None:
        if credentials.passphrase is None:
            raise AuthenticationFailed("kucoin", "a KuCoin API key needs its passphrase")
        self.api_key = credentials.api_key
        self._secret = credentials.secret.get_secret_value().encode()
        self._passphrase_header = self._b64mac(credentials.passphrase.get_secret_value().encode())

    def __repr__(self) -> str:
        return f"KucoinSigner(api_key={mask(self.api_key)!r})"

    def _b64mac(self, payload: bytes) -> str:
        return base64.b64encode(hmac.new(self._secret, payload, hashlib.sha256).digest()).decode()

    def headers(self, method: str, endpoint: str, body: str, timestamp_ms: int) -> dict[str, str]:
        """The authentication headers of one request (``endpoint`` = path + ``?query``)."""
        ts = str(timestamp_ms)
        return {
            "KC-API-KEY": self.api_key,
            "KC-API-SIGN": self._b64mac(f"{ts}{method}{endpoint}{body}".encode()),
            "KC-API-TIMESTAMP": ts,
            "KC-API-PASSPHRASE": self._passphrase_header,
            "KC-API-KEY-VERSION": "2",
        }

    def sign(
        self,
        method: str,
        path: str,
        timestamp_ms: int,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, object] | None = None,
    ) -> SignedRequest:
        """Sign ``method path`` with ``query`` (GET/DELETE) or a JSON ``body`` (POST)."""
        qs = query_string(query)
        target = f"{path}?{qs}" if qs else path
        raw = _json.encode(body) if body is not None else None
        text = raw.decode() if raw is not None else ""
        headers = self.headers(method, target, text, timestamp_ms)
        if raw is not None:
            headers["Content-Type"] = "application/json"
        return SignedRequest(method, target, headers, raw)
