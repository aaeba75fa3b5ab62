"""Gate APIv4 request signing.

``SIGN = hex(HMAC-SHA512(secret, METHOD \\n /api/v4<path> \\n query \\n hex(SHA512(body)) \\n ts))``
with the raw (not percent-encoded) query without ``?`` (empty when none), the SHA-512 of the
exact body text (of ``""`` when there is none) and ``Timestamp`` in Unix seconds; headers
``KEY``, ``Timestamp``, ``SIGN`` (``shared/exchanges/gate.md`` §7). WebSocket private channels
sign ``channel=<ch>&event=<ev>&time=<t>`` with the same key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

import msgspec
from arbot.trading.credentials import ApiCredentials, mask
from arbot.trading.wire import SignedRequest

__all__ = ["API_PREFIX", "GateSigner", "query_string"]

#: Every signed path starts with the API version prefix.
API_PREFIX = "/api/v4"

_json = msgspec.json.Encoder()
_EMPTY_SHA512 = hashlib.sha512(b"").hexdigest()


def query_string(params: Mapping[str, str] | None, encoded: bool) -> str:
    """``k=v&...`` in the given order; percent-encoded for the URL, raw for the signature."""
    if not params:
        return ""
    if encoded:
        return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    return "&".join(f"{k}={v}" for k, v in params.items())


class GateSigner:
    """Signs Gate private REST requests and WebSocket channel requests with one API key."""

    __slots__ = ("_secret", "api_key")

    def __init__(self, credentials: ApiCredentials) -> None:
        self.api_key = credentials.api_key
        self._secret = credentials.secret.get_secret_value().encode()

    def __repr__(self) -> str:
        return f"GateSigner(api_key={mask(self.api_key)!r})"

    def signature(self, method: str, path: str, raw_query: str, body: bytes | None, timestamp_s: int) -> str:
        """The hex ``SIGN`` of one request; ``path`` includes ``/api/v4``."""
        body_hash = hashlib.sha512(body).hexdigest() if body else _EMPTY_SHA512
        payload = f"{method}\n{path}\n{raw_query}\n{body_hash}\n{timestamp_s}"
        return hmac.new(self._secret, payload.encode(), hashlib.sha512).hexdigest()

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
        raw = _json.encode(body) if body is not None else None
        sig = self.signature(method, full, query_string(query, False), raw, timestamp_s)
        encoded = query_string(query, True)
        headers = {"KEY": self.api_key, "Timestamp": str(timestamp_s), "SIGN": sig,
                   "Content-Type": "application/json"}
        return SignedRequest(method, f"{full}?{encoded}" if encoded else full, headers, raw)

    def ws_auth(self, channel: str, event: str, time_s: int) -> dict[str, str]:
        """The ``auth`` object of a private WebSocket request."""
        payload = f"channel={channel}&event={event}&time={time_s}".encode()
        sig = hmac.new(self._secret, payload, hashlib.sha512).hexdigest()
        return {"method": "api_key", "KEY": self.api_key, "SIGN": sig}
