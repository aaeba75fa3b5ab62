"""Bithumb (current v1/v2 API) request signing: a JWT (HS256) in ``Authorization: Bearer``.

Payload ``{"access_key", "nonce": uuid4, "timestamp": <ms>, "query_hash": hex(SHA512(query)),
"query_hash_alg": "SHA512"}``; unlike Upbit the ``timestamp`` is mandatory; ``query_hash*`` only
when the request has parameters. ``query`` is the ``k=v&...`` text of the query (GET/DELETE) or
of the JSON body's keys in order (POST), each key and value percent-encoded as JavaScript's
``encodeURIComponent`` does, lists as ``k[]=a&k[]=b`` (``shared/exchanges/bithumb.md`` §7).
The token is built by :meth:`arbot.trading.signing.ApiCredentials.jwt_hs256`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

from arbot.trading.signing import ApiCredentials, SignedRequest, compact_json, uri_component, uuid4_text

__all__ = ["BithumbSigner", "Params", "query_text"]

#: Request parameters: text values, or lists of text for ``k[]=`` parameters.
Params = Mapping[str, "str | Sequence[str]"]

_URI_SAFE = "~()*!.'"  # what encodeURIComponent leaves alone besides letters, digits, - and _


def query_text(params: Params | None) -> str:
    """The ``encodeURIComponent`` ``k=v&...`` text (used both in the URL and for the hash)."""
    if not params:
        return ""
    parts: list[str] = []
    for k, v in params.items():
        if isinstance(v, str):
            parts.append(f"{uri_component(k, _URI_SAFE)}={uri_component(v, _URI_SAFE)}")
        else:
            key = uri_component(k, _URI_SAFE) + "[]"
            parts.extend(f"{key}={uri_component(item, _URI_SAFE)}" for item in v)
    return "&".join(parts)


class BithumbSigner:
    """Signs Bithumb private requests with one API key; ``new_nonce`` makes the JWT nonce."""

    __slots__ = ("credentials", "new_nonce")

    def __init__(self, credentials: ApiCredentials, new_nonce: Callable[[], str] = uuid4_text) -> None:
        self.credentials = credentials
        self.new_nonce = new_nonce

    def __repr__(self) -> str:
        return f"BithumbSigner({self.credentials!r})"

    def token(self, hashed: str | None, timestamp_ms: int) -> str:
        """The JWT for a request whose parameter text is ``hashed`` (None: no parameters)."""
        claims: dict[str, str | int] = {
            "access_key": self.credentials.api_key, "nonce": self.new_nonce(), "timestamp": timestamp_ms}
        if hashed is not None:
            claims["query_hash"] = hashlib.sha512(hashed.encode()).hexdigest()
            claims["query_hash_alg"] = "SHA512"
        return self.credentials.jwt_hs256(claims)

    def sign(
        self,
        method: str,
        path: str,
        timestamp_ms: int,
        query: Params | None = None,
        body: Params | None = None,
    ) -> SignedRequest:
        """Sign ``method path`` with ``query`` (GET/DELETE) or a JSON ``body`` (POST)."""
        params = body if body is not None else query
        qs = query_text(params)
        token = self.token(qs if params else None, timestamp_ms)
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
            return SignedRequest(method, path, "", compact_json(dict(body)), headers)
        return SignedRequest(method, path, qs, None, headers)
