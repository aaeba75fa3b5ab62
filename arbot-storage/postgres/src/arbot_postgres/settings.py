"""Settings of the PostgreSQL sink: ``[sinks.postgres]``.

The DSN names server, port, user and database. The password is read from the environment
variable ``password_env`` (default ``POSTGRES_PASSWORD``) into a :class:`~pydantic.SecretStr`;
a password written in the DSN or as ``password`` is taken out of the DSN at validation, so no
repr, log or error message prints it.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from arbot.sinks.base import BatchingSettings
from pydantic import Field, SecretStr, field_validator, model_validator

__all__ = ["PostgresSettings", "connect_kwargs"]


class PostgresSettings(BatchingSettings):
    """``[sinks.postgres]``: where the journal lives and how the sink writes to it."""

    dsn: str = Field(
        "postgresql://arbot@localhost:5432/arbot",
        description="postgresql://user@host:port/database (no password: see password_env)",
    )
    password_env: str = Field("POSTGRES_PASSWORD", description="environment variable holding the password")
    auto_migrate: bool = Field(True, description="apply missing migrations when the sink opens")
    connect_timeout_s: float = Field(5.0, gt=0, description="give up one connection attempt after this")
    command_timeout_s: float = Field(30.0, gt=0, description="give up one statement after this")
    batch_size: int = Field(10_000, ge=1, description="events written per COPY batch")
    max_outage_s: float | None = Field(
        300.0, gt=0, description="seconds the server may stay down before the sink fails the run"
    )

    journal_scope: str | None = Field(
        None,
        description='key of this bot\'s execution journal ([executor] journal = "postgres") in the '
        "database; default: the run's output folder, like the embedded execution.sqlite",
    )

    password: SecretStr | None = Field(
        None, description="used when the password_env variable is unset; better kept out of files"
    )

    @model_validator(mode="before")
    @classmethod
    def _password_out_of_dsn(cls, data: Any) -> Any:
        """Move a password written in the DSN (``user:password@`` or ``?password=``) into
        ``password`` so the DSN never shows it."""
        if isinstance(data, dict) and isinstance(data.get("dsn"), str):
            parts = urlsplit(data["dsn"])
            if parts.password is not None:
                host = parts.hostname or ""
                netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
                data = {**data, "dsn": urlunsplit(parts._replace(netloc=netloc))}
                data.setdefault("password", unquote(parts.password))
                parts = parts._replace(netloc=netloc)
            # libpq and asyncpg also take the password as a query parameter: ?password=...
            query = parse_qsl(parts.query, keep_blank_values=True)
            in_query = [v for k, v in query if k == "password"]
            if in_query:
                kept = urlencode([(k, v) for k, v in query if k != "password"])
                data = {**data, "dsn": urlunsplit(parts._replace(query=kept))}
                if data.get("password") is None:
                    data["password"] = in_query[-1]
        return data

    @field_validator("dsn")
    @classmethod
    def _postgres_scheme(cls, v: str) -> str:
        if urlsplit(v).scheme not in ("postgresql", "postgres"):
            raise ValueError("dsn must start with postgresql://")
        return v

    def resolved_password(self) -> SecretStr | None:
        """The password: the environment variable ``password_env`` first, else ``password``."""
        value = os.environ.get(self.password_env)
        return SecretStr(value) if value else self.password


def connect_kwargs(settings: PostgresSettings) -> dict[str, object]:
    """Keyword arguments of :func:`asyncpg.connect` (the password revealed only here)."""
    kwargs: dict[str, object] = {"dsn": settings.dsn, "timeout": settings.connect_timeout_s}
    kwargs["command_timeout"] = settings.command_timeout_s
    secret = settings.resolved_password()
    if secret is not None:
        kwargs["password"] = secret.get_secret_value()
    return kwargs
