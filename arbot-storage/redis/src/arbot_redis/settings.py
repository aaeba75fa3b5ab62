"""Where Redis is. The password comes from the environment (``password_env``) and is held as a
:class:`~pydantic.SecretStr`; one written in the URL is moved out of it at validation, so no
repr, log or error message shows it."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from arbot.config import ComponentSettings
from pydantic import Field, SecretStr, field_validator, model_validator

__all__ = ["RedisConnection"]


class RedisConnection(ComponentSettings):
    """``url`` (no password in it), ``password_env`` and the key ``prefix``."""

    url: str = Field("redis://127.0.0.1:6379/0", description="redis://host:port/db (no password)")
    password_env: str = Field("REDIS_PASSWORD", description="environment variable holding the password")
    prefix: str = Field("arbot", pattern=r"^[A-Za-z0-9_.-]+$", description="prefix of every key")
    socket_timeout_s: float = Field(5.0, gt=0, description="give up one command after this")

    password: SecretStr | None = Field(None, description="used when password_env is unset")

    @model_validator(mode="before")
    @classmethod
    def _password_out_of_url(cls, data: Any) -> Any:
        """Move a password written in the URL into ``password`` so the URL never shows it."""
        if isinstance(data, dict) and isinstance(data.get("url"), str):
            parts = urlsplit(data["url"])
            if parts.password is not None:
                netloc = (f"{parts.username}@" if parts.username else "") + (parts.hostname or "")
                netloc += f":{parts.port}" if parts.port else ""
                data = {**data, "url": urlunsplit(parts._replace(netloc=netloc))}
                data.setdefault("password", unquote(parts.password))
        return data

    @field_validator("url")
    @classmethod
    def _redis_url(cls, v: str) -> str:
        if urlsplit(v).scheme not in ("redis", "rediss"):
            raise ValueError("url must start with redis:// or rediss://")
        return v

    def resolved_password(self) -> SecretStr | None:
        """The password: the environment variable ``password_env`` first, else ``password``."""
        value = os.environ.get(self.password_env)
        return SecretStr(value) if value else self.password

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``Redis.from_url`` (the password revealed only here)."""
        secret = self.resolved_password()
        kwargs: dict[str, Any] = {"socket_timeout": self.socket_timeout_s, "socket_connect_timeout": 5.0}
        if secret is not None:
            kwargs["password"] = secret.get_secret_value()
        return kwargs
