"""Keeping secrets out of every output: config dumps, validation errors, hook traces, logs.

A key is secret when its name says so (``api_secret``, ``password``, ``bot_token``...). Values
under such keys, and every :class:`pydantic.SecretStr`, are shown as ``********``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, SecretBytes, SecretStr

__all__ = ["MASK", "is_secret_key", "redact", "safe_repr"]

MASK = "********"
_SECRET_KEY = re.compile(
    r"(secret|password|passwd|passphrase|token|api_?key|private_?key|access_?key|credential|dsn|master_?key)",
    re.IGNORECASE,
)
_JsonLike = object


def is_secret_key(name: str) -> bool:
    """True when a setting named ``name`` holds a secret (its value is never shown)."""
    return bool(_SECRET_KEY.search(name))


def redact(value: _JsonLike, key: str = "") -> _JsonLike:
    """A copy of ``value`` (dicts, lists, models, scalars) with every secret masked."""
    if isinstance(value, SecretStr | SecretBytes):
        return MASK if value.get_secret_value() else ""
    if key and is_secret_key(key) and value not in (None, "", b""):
        return MASK
    if isinstance(value, BaseModel):
        return {name: redact(getattr(value, name), name) for name in type(value).model_fields} | {
            k: redact(v, k) for k, v in (value.model_extra or {}).items()
        }
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def safe_repr(value: object, limit: int = 300) -> str:
    """A short repr for traces and errors: models by class name, containers redacted."""
    if isinstance(value, BaseModel):
        text = f"<{type(value).__name__}>"
    elif isinstance(value, Mapping | list | tuple | SecretStr):
        text = repr(redact(value))
    elif isinstance(value, str | int | float | bool | type(None)):
        text = repr(value)
    else:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
