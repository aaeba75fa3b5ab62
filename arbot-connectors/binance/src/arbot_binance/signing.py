"""Binance request signing (HMAC keys): ``signature = hex(HMAC_SHA256(secret, totalParams))``.

``totalParams`` is the query string followed by the form body; ArBot puts every parameter in
one of the two (query for GET/DELETE, ``application/x-www-form-urlencoded`` body for POST/PUT),
in the order ``timestamp``, the request's own parameters, ``recvWindow``, and appends
``signature`` last. The key goes in ``X-MBX-APIKEY``. The server accepts a request when
``timestamp < serverTime + 1000`` and ``serverTime - timestamp <= recvWindow``.
"""

from __future__ import annotations

from collections.abc import Mapping

from arbot.trading.signing import ApiCredentials, SignedRequest, query_string

__all__ = ["BinanceSigner"]


class BinanceSigner:
    """Signs Binance private REST requests (``recv_window`` in milliseconds)."""

    def __init__(self, credentials: ApiCredentials, recv_window: int = 5000) -> None:
        self.credentials = credentials
        self.recv_window = recv_window

    def sign(self, method: str, path: str, params: Mapping[str, object], ts_ms: int) -> SignedRequest:
        """A signed request of ``params`` at ``ts_ms``."""
        method = method.upper()
        payload = query_string({"timestamp": ts_ms, **params, "recvWindow": self.recv_window})
        payload += "&signature=" + self.credentials.hmac_sha256_hex(payload)
        headers = {"X-MBX-APIKEY": self.credentials.api_key}
        if method in ("GET", "DELETE"):
            return SignedRequest(method, path, payload, None, headers)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return SignedRequest(method, path, "", payload, headers)

    def api_key_headers(self) -> dict[str, str]:
        """The header of key-only endpoints (the user data stream's listen key)."""
        return {"X-MBX-APIKEY": self.credentials.api_key}
