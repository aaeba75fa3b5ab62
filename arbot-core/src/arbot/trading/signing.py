"""What every venue's request signer shares: credentials that never print, the signed request,
and the encodings venues sign (query strings, compact JSON, ISO-8601 milliseconds, HMACs).

A venue package's ``signing.py`` turns (method, path, parameters, timestamp) into a
:class:`SignedRequest`: the exact query string and body bytes the signature covers, and the
headers to send. The secret is read only inside :meth:`ApiCredentials.hmac_sha256`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Mapping
from urllib.parse import quote

import attrs
import msgspec

__all__ = [
    "ApiCredentials",
    "SignedRequest",
    "compact_json",
    "iso8601_ms",
    "query_string",
]


@attrs.frozen(slots=True, repr=False)
class ApiCredentials:
    """An API key with its secret (and passphrase, for OKX, Bitget, KuCoin).

    The repr and str show only the key's first characters; the secret is used only through
    :meth:`hmac_sha256` (and :meth:`passphrase_value` for the header venues send in clear).
    """

    api_key: str
    _secret: str = attrs.field(alias="secret")
    _passphrase: str | None = attrs.field(default=None, alias="passphrase")
    #: The HMAC keyed once with the secret; each signature copies it.
    _keyed: hmac.HMAC = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_keyed", hmac.new(self._secret.encode(), digestmod=hashlib.sha256))

    def __repr__(self) -> str:
        return f"ApiCredentials(api_key={self.api_key[:4]}…, secret=***)"

    __str__ = __repr__

    @property
    def has_passphrase(self) -> bool:
        """True when a passphrase was given."""
        return self._passphrase is not None

    def passphrase_value(self) -> str:
        """The passphrase (sent as a header by OKX and Bitget); empty when none was given."""
        return self._passphrase or ""

    def reveal_secret(self) -> str:
        """The secret itself, only for a client library that signs on its own (ccxt); never log it."""
        return self._secret

    def hmac_sha256(self, message: bytes) -> bytes:
        """HMAC-SHA256 of ``message`` keyed by the secret (raw digest)."""
        mac = self._keyed.copy()
        mac.update(message)
        return mac.digest()

    def hmac_sha256_hex(self, message: str) -> str:
        """Lower-case hex HMAC-SHA256 of ``message``."""
        return self.hmac_sha256(message.encode()).hex()

    def hmac_sha256_b64(self, message: str) -> str:
        """Base64 HMAC-SHA256 of ``message``."""
        return base64.b64encode(self.hmac_sha256(message.encode())).decode()

    def hmac_sha512_hex(self, message: str) -> str:
        """Lower-case hex HMAC-SHA512 of ``message`` (Gate)."""
        return hmac.new(self._secret.encode(), message.encode(), hashlib.sha512).hexdigest()

    def jwt_hs256(self, claims: Mapping[str, object]) -> str:
        """A compact JWT of ``claims`` signed HS256 with the secret (Upbit, Bithumb): header
        ``{"alg":"HS256","typ":"JWT"}``, claims as compact JSON in their given order."""
        signing_input = _JWT_HS256_HEADER + "." + _b64url(msgspec.json.encode(dict(claims)))
        return signing_input + "." + _b64url(self.hmac_sha256(signing_input.encode()))

    @classmethod
    def from_env(cls, venue: str, environ: Mapping[str, str] | None = None) -> ApiCredentials | None:
        """``<VENUE>_API_KEY`` + ``<VENUE>_API_SECRET`` (+ ``<VENUE>_PASSPHRASE``), as in TRD §7;
        None when the key or the secret is not set."""
        env = os.environ if environ is None else environ
        prefix = venue.upper().replace("-", "_")
        key, secret = env.get(f"{prefix}_API_KEY", ""), env.get(f"{prefix}_API_SECRET", "")
        if not key or not secret:
            return None
        return cls(key, secret=secret, passphrase=env.get(f"{prefix}_PASSPHRASE") or None)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


_JWT_HS256_HEADER = _b64url(b'{"alg":"HS256","typ":"JWT"}')


@attrs.frozen(slots=True)
class SignedRequest:
    """One signed request: method, path, the encoded query (without ``?``), the body and the
    headers, exactly as they go on the wire."""

    method: str
    path: str
    query: str
    body: str | None
    headers: dict[str, str]

    @property
    def path_with_query(self) -> str:
        """``path?query`` (or just ``path``)."""
        return f"{self.path}?{self.query}" if self.query else self.path


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def _component(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    return text if _UNRESERVED.issuperset(text) else quote(text, safe="")


def query_string(params: Mapping[str, object]) -> str:
    """``k=v&...`` in the given order, percent-encoded as ``urllib.parse.urlencode(...,
    quote_via=quote)`` does (``%20`` for spaces; booleans as ``true``/``false``), with a fast
    path for the common all-unreserved values."""
    safe = _UNRESERVED.issuperset
    parts = []
    for k, v in params.items():
        if type(v) is str:
            text = v if safe(v) else quote(v, safe="")
        elif type(v) is int:
            text = str(v)
        else:
            text = _component(v)
        parts.append(f"{k if safe(k) else quote(k, safe='')}={text}")
    return "&".join(parts)


def compact_json(payload: object) -> str:
    """JSON without spaces (the bytes OKX, Bybit and Bitget sign)."""
    return msgspec.json.encode(payload).decode()


def iso8601_ms(ts_ms: int) -> str:
    """``2020-12-08T09:08:57.715Z`` for a millisecond timestamp."""
    seconds, ms = divmod(ts_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"
