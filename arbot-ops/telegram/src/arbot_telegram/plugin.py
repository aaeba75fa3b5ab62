"""Plugin registration: the ``telegram`` sink (``[alerts.telegram]``), bound to its bot when it starts."""

from __future__ import annotations

from collections.abc import Sequence

from arbot.bot import Bot
from arbot.components import Sink
from arbot.hookspecs import hookimpl

from arbot_telegram.sink import TelegramSink


@hookimpl
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """The ``telegram`` sink."""
    return [TelegramSink]


@hookimpl
def arbot_started(bot: Bot) -> None:
    """Let every telegram sink of ``bot`` answer commands about it and watch its health."""
    for sink in bot.sinks:
        if isinstance(sink, TelegramSink):
            sink.attach(bot)
