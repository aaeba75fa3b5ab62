"""KuCoin request signing (API key version 2).

``KC-API-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + endpoint + body))`` where the
endpoint carries the query string (``/api/v1/accounts?currency=BTC``) and the body is the exact
JSON text sent (empty for GET/DELETE); ``KC-API-PASSPHRASE = base64(HMAC-SHA256(secret,
passphrase))`` for version-2 keys; ``KC-API-TIMESTAMP`` is in milliseconds and must be within
5 s of the server's clock (``shared/exchanges/kucoin.md`` §8).
"""

from __future__ import annotations

from collections.abc import Mapping

from arbot.trading.errors import AuthenticationFailed
from arbot.trading.signing import ApiCredentials, SignedRequest, compact_json

__all__ = ["KucoinSigner", "raw_query"]


def raw_query(params: Mapping[str, str] | None) -> str:
    """``k=v&k2=v2`` in the given order, not percent-encoded (what KuCoin signs)."""
    if not params:
        return ""
    return "&".join(f"{k}={v}" for k, v in params.items())


class KucoinSigner:
    """Signs KuCoin private requests with one API key (the secret stays in the credentials)."""

    __slots__ = ("_passphrase_header", "credentials")

    def __init__(self, credentials: ApiCredentials) -> None:
        if not credentials.has_passphrase:
            raise AuthenticationFailed("kucoin", "a KuCoin API key needs its passphrase")
        self.credentials = credentials
        self._passphrase_header = credentials.hmac_sha256_b64(credentials.passphrase_value())

    def __repr__(self) -> str:
        return f"KucoinSigner({self.credentials!r})"

    def headers(self, method: str, endpoint: str, body: str, timestamp_ms: int) -> dict[str, str]:
        """The authentication headers of one request (``endpoint`` = path + ``?query``)."""
        ts = str(timestamp_ms)
        return {
            "KC-API-KEY": self.credentials.api_key,
            "KC-API-SIGN": self.credentials.hmac_sha256_b64(f"{ts}{method}{endpoint}{body}"),
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
        qs = raw_query(query)
        text = compact_json(dict(body)) if body is not None else None
        headers = self.headers(method, f"{path}?{qs}" if qs else path, text or "", timestamp_ms)
        if text is not None:
            headers["Content-Type"] = "application/json"
        return SignedRequest(method, path, qs, text, headers)
