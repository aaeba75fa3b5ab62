"""Where ClickHouse is: ``backend = "chdb"`` (a data folder, in process) or ``"http"`` (a server
through clickhouse-connect). Shared by the sink (``[sinks.clickhouse]``) and the source."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from arbot.config import BotConfig, ComponentSettings
from pydantic import Field, SecretStr

from arbot_clickhouse.backends import ChdbBackend, ClickHouseBackend, HttpBackend

__all__ = ["ClickHouseConnection", "open_backend"]


class ClickHouseConnection(ComponentSettings):
    """Which ClickHouse, and the database holding the TRD §4.2 tables."""

    backend: Literal["chdb", "http"] = Field("chdb", description="chdb: embedded; http: a server")
    path: str = Field("clickhouse", description="chdb data folder (relative to output_dir)")
    host: str = Field("localhost", description="http: server host")
    port: int = Field(8123, ge=1, le=65535, description="http: server port")
    username: str = Field("default", description="http: user")
    password_env: str = Field("CLICKHOUSE_PASSWORD", description="http: variable holding the password")
    secure: bool = Field(False, description="http: HTTPS")
    database: str = Field("arbot", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="database of the tables")

    def password(self) -> SecretStr | None:
        """The password from the environment, if set."""
        value = os.environ.get(self.password_env)
        return SecretStr(value) if value else None


def open_backend(
    settings: ClickHouseConnection, config: BotConfig, base: Path | None = None
) -> ClickHouseBackend:
    """Connect to the configured ClickHouse (chdb folder under ``base``, default output_dir)."""
    if settings.backend == "chdb":
        root = base if base is not None else config.output_path
        return ChdbBackend(root / settings.path)
    return HttpBackend(
        settings.host, settings.port, settings.username, settings.password(), secure=settings.secure
    )
