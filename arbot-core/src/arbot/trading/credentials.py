"""API credentials of one venue account: the key, the secret and an optional passphrase.

The secret and passphrase are :class:`pydantic.SecretStr`: ``repr``/``str`` never show them,
and only the signer of a venue reads their value. :meth:`ApiCredentials.from_env` reads the
TRD §7 environment variables (``BINANCE_API_KEY``, ``BINANCE_API_SECRET``, ``OKX_PASSPHRASE``
...); :func:`arbot.keystore.resolve_credentials` adds the encrypted key store.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import attrs
from pydantic import SecretStr

__all__ = ["ApiCredentials", "mask"]


def mask(value: str, keep: int = 4) -> str:
    """``value`` with all but its first ``keep`` characters hidden (``abcd********``)."""
    if len(value) <= keep * 2:
        return "*" * max(8, len(value))
    return value[:keep] + "*" * 8


@attrs.frozen(slots=True, repr=False)
class ApiCredentials:
    """One API key: ``api_key`` (shown masked), ``secret`` and ``passphrase`` (never shown)."""

    api_key: str
    secret: SecretStr
    passphrase: SecretStr | None = None

    def __repr__(self) -> str:
        pp = ", passphrase=**********" if self.passphrase is not None else ""
        return f"ApiCredentials(api_key={mask(self.api_key)!r}, secret=**********{pp})"

    __str__ = __repr__

    @classmethod
    def of(cls, api_key: str, secret: str, passphrase: str | None = None) -> ApiCredentials:
        """Credentials from plain strings (wrapped in ``SecretStr`` at once)."""
        return cls(api_key, SecretStr(secret), SecretStr(passphrase) if passphrase is not None else None)

    @classmethod
    def from_env(cls, venue: str, environ: Mapping[str, str] | None = None) -> ApiCredentials | None:
        """``<VENUE>_API_KEY`` + ``<VENUE>_API_SECRET`` (+ ``<VENUE>_PASSPHRASE``), or None when
        the key or the secret is not set."""
        env = os.environ if environ is None else environ
        prefix = venue.upper().replace("-", "_")
        key = env.get(f"{prefix}_API_KEY", "")
        secret = env.get(f"{prefix}_API_SECRET", "")
        if not key or not secret:
            return None
        passphrase = env.get(f"{prefix}_PASSPHRASE") or None
        return cls.of(key, secret, passphrase)
