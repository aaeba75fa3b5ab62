"""Where a venue's API key comes from: its connector table, the environment, the key store.

``[connectors.<venue>]`` may hold ``api_key``, ``api_secret`` and ``passphrase`` (kept as
:class:`pydantic.SecretStr` until the signer is built); otherwise ``<VENUE>_API_KEY``,
``<VENUE>_API_SECRET`` and ``<VENUE>_PASSPHRASE`` (or ``<VENUE>_API_PASSPHRASE``) are read from
the environment (TRD §7), and then the encrypted key store (:mod:`arbot.keystore`, record
``key_name`` of the table, default ``"default"``). A key without its secret is an error naming
where the key was found; the secret itself never appears in an error or a repr.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import SecretStr

from arbot.errors import ConfigError
from arbot.keystore import resolve_credentials
from arbot.trading.signing import ApiCredentials

__all__ = ["CREDENTIAL_KEYS", "credentials_for", "env_names", "split_credentials"]

#: keys of a ``[connectors.<venue>]`` table that are credentials, not connector settings
CREDENTIAL_KEYS = ("api_key", "api_secret", "passphrase", "key_name")


def env_names(venue: str) -> tuple[str, str, tuple[str, ...]]:
    """The environment variables of ``venue``'s key, secret and passphrase (first set wins)."""
    prefix = venue.upper().replace("-", "_")
    return f"{prefix}_API_KEY", f"{prefix}_API_SECRET", (f"{prefix}_PASSPHRASE", f"{prefix}_API_PASSPHRASE")


def split_credentials(table: Mapping[str, object]) -> tuple[dict[str, object], dict[str, SecretStr]]:
    """A connector table split into (its settings, its credential keys as SecretStr)."""
    settings: dict[str, object] = {}
    secrets: dict[str, SecretStr] = {}
    for key, value in table.items():
        if key not in CREDENTIAL_KEYS:
            settings[key] = value
        elif value is not None:
            secrets[key] = value if isinstance(value, SecretStr) else SecretStr(str(value))
    return settings, secrets


def credentials_for(
    venue: str, table: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> ApiCredentials | None:
    """``venue``'s credentials from its connector table, else the environment; None when neither
    names a key. Raises :class:`ConfigError` when a key comes without its secret."""
    env = os.environ if environ is None else environ
    _, secrets = split_credentials(table)
    key_var, secret_var, pass_vars = env_names(venue)
    if "api_key" in secrets or "api_secret" in secrets:
        where = f"[connectors.{venue}]"
        key, secret = secrets.get("api_key"), secrets.get("api_secret")
        passphrase = secrets.get("passphrase")
        key_value = key.get_secret_value() if key is not None else None
        secret_value = secret.get_secret_value() if secret is not None else None
        pass_value = passphrase.get_secret_value() if passphrase is not None else None
    else:
        where = f"the environment ({key_var}, {secret_var})"
        key_value, secret_value = env.get(key_var), env.get(secret_var)
        pass_value = next((env[v] for v in pass_vars if env.get(v)), None)
    if not key_value and not secret_value:
        name = secrets.get("key_name")
        return resolve_credentials(venue, name.get_secret_value() if name else "default", env)
    if not key_value or not secret_value:
        missing = "api_key" if not key_value else "api_secret"
        raise ConfigError(f"{venue}: {where} gives an API key without its secret or a secret without its "
                          f"key ({missing} is missing)")
    return ApiCredentials(key_value, secret=secret_value, passphrase=pass_value)
