"""What every venue's request signer shares: credentials that never print, the signed request,
and the encodings venues sign (query strings, compact JSON, ISO-8601 milliseconds, HMACs).

A venue package's ``signing.py`` turns (method, path, parameters, timestamp) into a
:class:`SignedRequest`: the exact query string and body bytes the signature covers, and the
headers to send. The secret is read only inside :meth:`ApiCredentials.hmac_sha256`.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import random
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote

import attrs
import msgspec

__all__ = [
    "ApiCredentials",
    "KeyedHash",
    "SignedRequest",
    "compact_json",
    "iso8601_ms",
    "query_string",
    "uri_component",
    "uuid4_text",
]


class KeyedHash:
    """HMAC (RFC 2104) with the key's two padded blocks hashed once: a signature copies the two
    precomputed hash states, feeds ``message`` and the inner digest, and finishes, in C
    (:mod:`hashlib`) without re-keying. Equal to :func:`hmac.digest` for every key and message
    (the signing tests check it against ccxt and :mod:`hmac`)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes, constructor: Callable[[], hashlib._Hash]) -> None:
        state = constructor()
        if len(key) > state.block_size:  # a long key is hashed first (RFC 2104 §2)
            key = constructor(key).digest()  # type: ignore[call-arg]
        key = key.ljust(state.block_size, b"\0")
        self._inner = constructor()
        self._inner.update(key.translate(_IPAD))
        self._outer = constructor()
        self._outer.update(key.translate(_OPAD))

    def __repr__(self) -> str:
        return "KeyedHash(***)"

    def digest(self, message: bytes) -> bytes:
        """The raw HMAC of ``message``."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


@attrs.frozen(slots=True, repr=False)
class ApiCredentials:
    """An API key with its secret (and passphrase, for OKX, Bitget, KuCoin).

    The repr and str show only the key's first characters; the secret is used only through
    :meth:`hmac_sha256` (and :meth:`passphrase_value` for the header venues send in clear).
    """

    api_key: str
    _secret: str = attrs.field(alias="secret")
    _passphrase: str | None = attrs.field(default=None, alias="passphrase")
    #: The HMACs keyed once with the secret (each signature copies their states).
    _sha256: KeyedHash = attrs.field(init=False, eq=False)
    _sha512: KeyedHash = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        key = self._secret.encode()
        object.__setattr__(self, "_sha256", KeyedHash(key, hashlib.sha256))
        object.__setattr__(self, "_sha512", KeyedHash(key, hashlib.sha512))

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
        return self._sha256.digest(message)

    def hmac_sha256_hex(self, message: str) -> str:
        """Lower-case hex HMAC-SHA256 of ``message``."""
        return self._sha256.digest(message.encode()).hex()

    def hmac_sha256_b64(self, message: str) -> str:
        """Base64 HMAC-SHA256 of ``message``."""
        return binascii.b2a_base64(self._sha256.digest(message.encode()), newline=False).decode()

    def hmac_sha512_hex(self, message: str) -> str:
        """Lower-case hex HMAC-SHA512 of ``message`` (Gate)."""
        return self._sha512.digest(message.encode()).hex()

    def jwt_hs256(self, claims: Mapping[str, object]) -> str:
        """A compact JWT of ``claims`` signed HS256 with the secret (Upbit, Bithumb): header
        ``{"alg":"HS256","typ":"JWT"}`` (encoded once), claims as compact JSON in their given
        order."""
        payload = msgspec.json.encode(claims if isinstance(claims, dict) else dict(claims))
        signing_input = _JWT_HS256_PREFIX + _b64url(payload)
        return signing_input + "." + _b64url(self._sha256.digest(signing_input.encode()))

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
    """Unpadded URL-safe base64 (``base64.urlsafe_b64encode(raw).rstrip(b"=")``), in C."""
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


_URLSAFE = bytes.maketrans(b"+/", b"-_")


_JWT_HS256_PREFIX = _b64url(b'{"alg":"HS256","typ":"JWT"}') + "."


def uuid4_text() -> str:
    """A random (version 4) UUID as text, ``xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx``: a JWT nonce
    or a client order id. From the process's pseudo-random generator (reseeded from the OS on
    start and in every forked child): unique, not secret, and many times cheaper than
    :func:`uuid.uuid4`, which reads the OS for each."""
    h = "%032x" % (random.getrandbits(128) & _UUID_CLEAR | _UUID_V4)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_V4 = (0x4000 << 64) | (0x8000 << 48)


class SignedRequest(NamedTuple):
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
    quote_via=quote)`` does (``%20`` for spaces; booleans as ``true``/``false``). The common case
    (text and numbers of unreserved characters only) is joined first and checked once."""
    text = "&".join([f"{k}={v}" for k, v in params.items()])
    if (
        text.isascii()
        # what is left after the unreserved characters is exactly one "=" per pair and the
        # "&"s between them: no key or value holds "&", "=" or anything to percent-encode
        and text.encode().translate(None, _UNRESERVED_BYTES) == b"=" + b"&=" * (len(params) - 1)
        and "True" not in text  # nor a boolean (written true/false)
        and "False" not in text
    ):
        return text
    return "&".join(f"{_component(k)}={_component(v)}" for k, v in params.items())


_UNRESERVED_BYTES = "".join(sorted(_UNRESERVED)).encode()


def uri_component(text: str, safe: str = "") -> str:
    """``urllib.parse.quote(text, safe=safe)``: UTF-8 percent-encoding of everything but
    letters, digits, ``_.-~`` and ``safe``; text with nothing to encode is returned as it is,
    after one pass over it in C."""
    if text.isascii() and not text.encode().translate(None, _unreserved_and(safe)):
        return text
    return quote(text, safe=safe)


@lru_cache(maxsize=16)
def _unreserved_and(safe: str) -> bytes:
    return _UNRESERVED_BYTES + safe.encode()


def compact_json(payload: object) -> str:
    """JSON without spaces (the bytes OKX, Bybit and Bitget sign)."""
    return msgspec.json.encode(payload).decode()


def iso8601_ms(ts_ms: int) -> str:
    """``2020-12-08T09:08:57.715Z`` for a millisecond timestamp."""
    return _second_text(ts_ms // 1000) + _MS_TEXT[ts_ms % 1000]


@lru_cache(maxsize=4)
def _second_text(seconds: int) -> str:
    """``2020-12-08T09:08:57.`` (kept for the next calls: orders come in bursts)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds))


_MS_TEXT = tuple(f"{ms:03d}Z" for ms in range(1000))
