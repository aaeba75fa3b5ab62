"""Gate APIv4 request signing.

``SIGN = hex(HMAC-SHA512(secret, METHOD \\n /api/v4<path> \\n query \\n hex(SHA512(body)) \\n ts))``
with the raw (not percent-encoded) query without ``?`` (empty when none), the SHA-512 of the
exact body text (of ``""`` when there is none) and ``Timestamp`` in Unix seconds; headers
``KEY``, ``Timestamp``, ``SIGN`` (``shared/exchanges/gate.md`` §7). WebSocket private channels
sign ``channel=<ch>&event=<ev>&time=<t>`` with the same key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import quote

from arbot.trading.signing import ApiCredentials, SignedRequest, compact_json

__all__ = ["API_PREFIX", "GateSigner", "query_text"]

#: Every signed path starts with the API version prefix.
API_PREFIX = "/api/v4"


def query_text(params: Mapping[str, str] | None, encoded: bool) -> str:
    """``k=v&...`` in the given order; percent-encoded for the URL, raw for the signature."""
    if not params:
        return ""
    if encoded:
        return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    return "&".join(f"{k}={v}" for k, v in params.items())


class GateSigner:
    """Signs Gate private REST requests and WebSocket channel requests with one API key."""

    __slots__ = ("credentials",)

    def __init__(self, credentials: ApiCredentials) -> None:
        self.credentials = credentials

    def __repr__(self) -> str:
        return f"GateSigner({self.credentials!r})"

    def signature(self, method: str, path: str, raw_query: str, body: str | None, timestamp_s: int) -> str:
        """The hex ``SIGN`` of one request; ``path`` includes ``/api/v4``."""
        body_hash = hashlib.sha512((body or "").encode()).hexdigest()
        return self.credentials.hmac_sha512_hex(f"{method}\n{path}\n{raw_query}\n{body_hash}\n{timestamp_s}")

    def sign(
        self,
        method: str,
        path: str,
        timestamp_s: int,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, object] | None = None,
    ) -> SignedRequest:
        """Sign ``method /api/v4<path>`` with ``query`` and/or a JSON ``body``."""
        full = API_PREFIX + path
        text = compact_json(dict(body)) if body is not None else None
        headers = {
            "KEY": self.credentials.api_key,
            "Timestamp": str(timestamp_s),
            "SIGN": self.signature(method, full, query_text(query, False), text, timestamp_s),
            "Content-Type": "application/json",
        }
        return SignedRequest(method, full, query_text(query, True), text, headers)

    def ws_auth(self, channel: str, event: str, time_s: int) -> dict[str, str]:
        """The ``auth`` object of a private WebSocket request."""
        sig = self.credentials.hmac_sha512_hex(f"channel={channel}&event={event}&time={time_s}")
        return {"method": "api_key", "KEY": self.credentials.api_key, "SIGN": sig}
