"""Upbit request signing: a JWT (HS256) in ``Authorization: Bearer``.

Payload ``{"access_key", "nonce": uuid4, "query_hash": hex(SHA512(query)), "query_hash_alg":
"SHA512"}`` — ``query_hash*`` only when the request has parameters. ``query`` is the
non-percent-encoded ``k=v&k2=v2`` text of the query (GET/DELETE) or of the JSON body's keys in
the same order (POST); lists as ``k[]=a&k[]=b``. No timestamp (``shared/exchanges/upbit.md`` §7).
Upbit accepts HS256 and HS512; HS256 is what ccxt sends in production.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import quote

import jwt
import msgspec
from arbot.trading.credentials import ApiCredentials, mask
from arbot.trading.wire import SignedRequest

__all__ = ["Params", "UpbitSigner", "query_string"]

#: Request parameters: text values, or lists of text for ``k[]=`` parameters.
Params = Mapping[str, "str | Sequence[str]"]

_json = msgspec.json.Encoder()


def _pairs(params: Params) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k, v in params.items():
        if isinstance(v, str):
            out.append((k, v))
        else:
            out.extend((f"{k}[]", item) for item in v)
    return out


def query_string(params: Params | None, encoded: bool) -> str:
    """``k=v&...`` in the given order; percent-encoded for the URL, raw for the query hash."""
    if not params:
        return ""
    if encoded:
        return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in _pairs(params))
    return "&".join(f"{k}={v}" for k, v in _pairs(params))


class UpbitSigner:
    """Signs Upbit private requests with one access key; ``new_nonce`` makes the JWT nonce."""

    __slots__ = ("_secret", "api_key", "new_nonce")

    def __init__(self, credentials: ApiCredentials, new_nonce: Callable[[], str] | None = None) -> None:
        self.api_key = credentials.api_key
        self._secret = credentials.secret.get_secret_value()
        self.new_nonce = new_nonce or (lambda: str(uuid.uuid4()))

    def __repr__(self) -> str:
        return f"UpbitSigner(api_key={mask(self.api_key)!r})"

    def token(self, hashed: str | None) -> str:
        """The JWT for a request whose raw parameter text is ``hashed`` (None: no parameters)."""
        payload: dict[str, str] = {"access_key": self.api_key, "nonce": self.new_nonce()}
        if hashed is not None:
            payload["query_hash"] = hashlib.sha512(hashed.encode()).hexdigest()
            payload["query_hash_alg"] = "SHA512"
        return jwt.encode(payload, self._secret, algorithm="HS256")

    def sign(
        self, method: str, path: str, query: Params | None = None, body: Params | None = None
    ) -> SignedRequest:
        """Sign ``method path`` with ``query`` (GET/DELETE) or a JSON ``body`` (POST)."""
        params = body if body is not None else query
        token = self.token(query_string(params, False) if params else None)
        headers = {"Authorization": f"Bearer {token}"}
        raw: bytes | None = None
        target = path
        if body is not None:
            raw = _json.encode(body)
            headers["Content-Type"] = "application/json"
        elif query:
            target = f"{path}?{query_string(query, True)}"
        return SignedRequest(method, target, headers, raw)
