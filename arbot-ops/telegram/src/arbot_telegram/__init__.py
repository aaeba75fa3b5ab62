"""ArBot Telegram alerts and commands."""

from arbot_telegram.settings import TOKEN_ENV, TelegramSettings
from arbot_telegram.sink import TelegramSink

__all__ = ["TOKEN_ENV", "TelegramSettings", "TelegramSink"]
