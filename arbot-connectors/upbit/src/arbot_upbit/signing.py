"""Upbit request signing: a JWT (HS256) in ``Authorization: Bearer``.

Payload ``{"access_key", "nonce": uuid4, "query_hash": hex(SHA512(query)), "query_hash_alg":
"SHA512"}`` — ``query_hash*`` only when the request has parameters. ``query`` is the
non-percent-encoded ``k=v&k2=v2`` text of the query (GET/DELETE) or of the JSON body's keys in
the same order (POST); lists as ``k[]=a&k[]=b``. No timestamp (``shared/exchanges/upbit.md`` §7).
Upbit accepts HS256 and HS512; HS256 is what ccxt sends in production. The token is built by
:meth:`arbot.trading.signing.ApiCredentials.jwt_hs256` (the tests check it with PyJWT).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

from arbot.trading.signing import ApiCredentials, SignedRequest, compact_json, uri_component, uuid4_text

__all__ = ["Params", "UpbitSigner", "query_text"]

#: Request parameters: text values, or lists of text for ``k[]=`` parameters.
Params = Mapping[str, "str | Sequence[str]"]


def _pairs(params: Params) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k, v in params.items():
        if isinstance(v, str):
            out.append((k, v))
        else:
            out.extend((f"{k}[]", item) for item in v)
    return out


def query_text(params: Params | None, encoded: bool) -> str:
    """``k=v&...`` in the given order; percent-encoded for the URL, raw for the query hash."""
    if not params:
        return ""
    if encoded:
        return "&".join(f"{uri_component(k, '[]')}={uri_component(v)}" for k, v in _pairs(params))
    return "&".join([f"{k}={v}" for k, v in _pairs(params)])


class UpbitSigner:
    """Signs Upbit private requests with one access key; ``new_nonce`` makes the JWT nonce."""

    __slots__ = ("credentials", "new_nonce")

    def __init__(self, credentials: ApiCredentials, new_nonce: Callable[[], str] = uuid4_text) -> None:
        self.credentials = credentials
        self.new_nonce = new_nonce

    def __repr__(self) -> str:
        return f"UpbitSigner({self.credentials!r})"

    def token(self, hashed: str | None) -> str:
        """The JWT for a request whose raw parameter text is ``hashed`` (None: no parameters)."""
        claims: dict[str, str] = {"access_key": self.credentials.api_key, "nonce": self.new_nonce()}
        if hashed is not None:
            claims["query_hash"] = hashlib.sha512(hashed.encode()).hexdigest()
            claims["query_hash_alg"] = "SHA512"
        return self.credentials.jwt_hs256(claims)

    def sign(
        self, method: str, path: str, query: Params | None = None, body: Params | None = None
    ) -> SignedRequest:
        """Sign ``method path`` with ``query`` (GET/DELETE) or a JSON ``body`` (POST)."""
        params = body if body is not None else query
        headers = {"Authorization": f"Bearer {self.token(query_text(params, False) if params else None)}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
            return SignedRequest(method, path, "", compact_json(dict(body)), headers)
        return SignedRequest(method, path, query_text(query, True), None, headers)
