"""Bybit v5 request signing: ``hex(HMAC_SHA256(secret, timestamp + apiKey + recvWindow + payload))``.

``payload`` is the query string for GET (and DELETE) and the exact JSON body for POST.
Headers: ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP`` (ms), ``X-BAPI-RECV-WINDOW``, ``X-BAPI-SIGN``.
The server accepts ``server_time - recv_window <= timestamp < server_time + 1000``. The private
WebSocket authenticates with ``hex(HMAC_SHA256(secret, "GET/realtime" + expires))``.
"""

from __future__ import annotations

from collections.abc import Mapping

from arbot.trading.signing import ApiCredentials, SignedRequest, compact_json, query_string

__all__ = ["BybitSigner"]


class BybitSigner:
    """Signs Bybit v5 private REST requests and the private WebSocket ``auth`` op."""

    def __init__(self, credentials: ApiCredentials, recv_window: int = 5000) -> None:
        self.credentials = credentials
        self.recv_window = recv_window

    def sign(self, method: str, path: str, params: Mapping[str, object], ts_ms: int) -> SignedRequest:
        """A signed request of ``params`` at ``ts_ms``."""
        method = method.upper()
        prefix = f"{ts_ms}{self.credentials.api_key}{self.recv_window}"
        headers = {
            "Content-Type": "application/json",
            "X-BAPI-API-KEY": self.credentials.api_key,
            "X-BAPI-TIMESTAMP": str(ts_ms),
            "X-BAPI-RECV-WINDOW": str(self.recv_window),
        }
        if method == "POST":
            body = compact_json(dict(params))
            headers["X-BAPI-SIGN"] = self.credentials.hmac_sha256_hex(prefix + body)
            return SignedRequest(method, path, "", body, headers)
        query = query_string(params)
        headers["X-BAPI-SIGN"] = self.credentials.hmac_sha256_hex(prefix + query)
        return SignedRequest(method, path, query, None, headers)

    def auth_args(self, expires_ms: int) -> list[object]:
        """The ``args`` of the private WebSocket ``auth`` op: key, expiry (ms), signature."""
        sig = self.credentials.hmac_sha256_hex(f"GET/realtime{expires_ms}")
        return [self.credentials.api_key, expires_ms, sig]
