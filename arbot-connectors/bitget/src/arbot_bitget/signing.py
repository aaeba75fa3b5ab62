"""Bitget v2 request signing:
``base64(HMAC_SHA256(secret, timestamp + METHOD + requestPath + ("?" + query if any) + body))``.

``timestamp`` in milliseconds; GET (and DELETE) parameters are sorted by key into the query;
POST signs the compact JSON body. Headers: ``ACCESS-KEY``, ``ACCESS-SIGN``,
``ACCESS-TIMESTAMP``, ``ACCESS-PASSPHRASE``. The private WebSocket login signs
``timestamp_seconds + "GET" + "/user/verify"``.
"""

from __future__ import annotations

from collections.abc import Mapping

from arbot.errors import ArbotError
from arbot.trading.signing import ApiCredentials, SignedRequest, compact_json, query_string

__all__ = ["BitgetSigner"]


class BitgetSigner:
    """Signs Bitget private REST requests and the private WebSocket login."""

    def __init__(self, credentials: ApiCredentials) -> None:
        if not credentials.has_passphrase:
            raise ArbotError("bitget: the API key needs its passphrase")
        self.credentials = credentials

    def sign(self, method: str, path: str, params: Mapping[str, object], ts_ms: int) -> SignedRequest:
        """A signed request of ``params`` at ``ts_ms``."""
        method = method.upper()
        timestamp = str(ts_ms)
        query, body = "", None
        if method == "POST":
            body = compact_json(dict(params))
            signed = timestamp + method + path + body
        else:
            query = query_string(dict(sorted(params.items()))) if params else ""
            signed = timestamp + method + path + ("?" + query if query else "")
        headers = {
            "ACCESS-KEY": self.credentials.api_key,
            "ACCESS-SIGN": self.credentials.hmac_sha256_b64(signed),
            "ACCESS-TIMESTAMP": timestamp,
            "ACCESS-PASSPHRASE": self.credentials.passphrase_value(),
        }
        if method == "POST":
            headers["Content-Type"] = "application/json"
        return SignedRequest(method, path, query, body, headers)

    def login_args(self, ts_seconds: int) -> dict[str, str]:
        """The ``args[0]`` of the private WebSocket ``login`` op."""
        ts = str(ts_seconds)
        return {
            "apiKey": self.credentials.api_key,
            "passphrase": self.credentials.passphrase_value(),
            "timestamp": ts,
            "sign": self.credentials.hmac_sha256_b64(ts + "GET" + "/user/verify"),
        }
