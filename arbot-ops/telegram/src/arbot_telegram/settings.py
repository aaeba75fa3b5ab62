"""``[alerts.telegram]``: the Telegram channel's settings (thresholds live in ``[alerts.thresholds]``)."""

from __future__ import annotations

import os

from arbot.sinks.base import BatchingSettings
from pydantic import Field, SecretStr, field_validator

__all__ = ["TOKEN_ENV", "TelegramSettings"]

#: Environment variable the bot token is read from when the table does not set one.
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"


def _token_from_env() -> SecretStr:
    return SecretStr(os.environ.get(TOKEN_ENV, ""))


class TelegramSettings(BatchingSettings):
    """``[alerts.telegram]``."""

    enabled: bool = Field(False, description="send alerts and answer commands")
    token: SecretStr = Field(default_factory=_token_from_env, description=f"bot token; default ${TOKEN_ENV}")
    keystore_name: str = Field(
        "bot",
        description="without a token: key store record telegram/<keystore_name> holds it (as its API key)",
    )
    chat_ids: list[int] = Field(
        default_factory=list,
        description="chats that receive alerts; the only chats whose commands are obeyed",
    )
    base_url: str = Field(
        "https://api.telegram.org/bot", description="Bot API address (a local Bot API server or an emulator)"
    )
    commands: bool = Field(True, description="answer /status /pnl /balance /stop /start")
    batch_window_s: float = Field(
        2.0, gt=0, le=600, description="alerts within this window go in one message"
    )
    min_interval_s: float = Field(
        1.0, ge=0, le=600, description="at least this long between messages to a chat"
    )
    max_lines: int = Field(15, ge=1, le=200, description="alert lines per message; the rest are counted")
    poll_timeout_s: int = Field(2, ge=0, le=50, description="getUpdates long-poll timeout")
    watch_interval_s: float = Field(1.0, gt=0, le=60, description="how often component health is checked")
    max_retries: int = Field(5, ge=0, le=20, description="attempts per message on 429s and network errors")
    residual_exposure_usd: float | None = Field(
        1_000.0, gt=0, description="alert when holdings netted across venues drift past this (None: never)"
    )
    leg_tolerance: float = Field(
        0.01, ge=0, le=1, description="relative fill mismatch of legs alerted as diverged"
    )
    flush_interval_s: float = Field(
        0.2, gt=0,
        description="Seconds between writer passes that batch alerts into messages.",
    )

    @field_validator("base_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v
