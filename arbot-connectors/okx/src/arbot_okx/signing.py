"""OKX v5 request signing: ``base64(HMAC_SHA256(secret, timestamp + METHOD + requestPath + body))``.

``timestamp`` is ISO-8601 UTC with milliseconds (``2020-12-08T09:08:57.715Z``), rejected when
more than 30 s from server time (50102). For GET the query string is part of ``requestPath``
and the body is empty; other methods sign the compact JSON body. Headers: ``OK-ACCESS-KEY``,
``OK-ACCESS-SIGN``, ``OK-ACCESS-TIMESTAMP``, ``OK-ACCESS-PASSPHRASE``. The WebSocket login signs
``timestamp_seconds + "GET" + "/users/self/verify"``.
"""

from __future__ import annotations

from collections.abc import Mapping

from arbot.errors import ArbotError
from arbot.trading.signing import ApiCredentials, SignedRequest, compact_json, iso8601_ms, query_string

__all__ = ["OkxSigner"]


class OkxSigner:
    """Signs OKX private REST requests and the private WebSocket login."""

    def __init__(self, credentials: ApiCredentials) -> None:
        if not credentials.has_passphrase:
            raise ArbotError("okx: the API key needs its passphrase")
        self.credentials = credentials

    def sign(self, method: str, path: str, params: Mapping[str, object], ts_ms: int) -> SignedRequest:
        """A signed request of ``params`` (query for GET, JSON body otherwise) at ``ts_ms``."""
        method = method.upper()
        timestamp = iso8601_ms(ts_ms)
        query, body = "", None
        if method == "GET":
            query = query_string(params) if params else ""
            signed = timestamp + method + path + ("?" + query if query else "")
        else:
            body = compact_json(dict(params)) if params else None
            signed = timestamp + method + path + (body or "")
        headers = {
            "OK-ACCESS-KEY": self.credentials.api_key,
            "OK-ACCESS-PASSPHRASE": self.credentials.passphrase_value(),
            "OK-ACCESS-TIMESTAMP": timestamp,
            "OK-ACCESS-SIGN": self.credentials.hmac_sha256_b64(signed),
        }
        if method != "GET":
            headers["Content-Type"] = "application/json"
        return SignedRequest(method, path, query, body, headers)

    def sign_body(self, method: str, path: str, body: str, ts_ms: int) -> SignedRequest:
        """A signed request with an already encoded JSON ``body`` (a batch endpoint's array)."""
        timestamp = iso8601_ms(ts_ms)
        headers = {
            "OK-ACCESS-KEY": self.credentials.api_key,
            "OK-ACCESS-PASSPHRASE": self.credentials.passphrase_value(),
            "OK-ACCESS-TIMESTAMP": timestamp,
            "OK-ACCESS-SIGN": self.credentials.hmac_sha256_b64(timestamp + method.upper() + path + body),
            "Content-Type": "application/json",
        }
        return SignedRequest(method.upper(), path, "", body, headers)

    def login_args(self, ts_seconds: int) -> dict[str, str]:
        """The ``args[0]`` of the private WebSocket ``login`` op."""
        ts = str(ts_seconds)
        return {
            "apiKey": self.credentials.api_key,
            "passphrase": self.credentials.passphrase_value(),
            "timestamp": ts,
            "sign": self.credentials.hmac_sha256_b64(ts + "GET" + "/users/self/verify"),
        }
