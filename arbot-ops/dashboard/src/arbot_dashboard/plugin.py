"""Plugin registration: the ``dashboard`` sink, bound to its bot when the bot starts."""

from __future__ import annotations

from collections.abc import Sequence

from arbot.bot import Bot
from arbot.components import Sink
from arbot.hookspecs import hookimpl

from arbot_dashboard.sink import DashboardSink


@hookimpl
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """The ``dashboard`` sink."""
    return [DashboardSink]


@hookimpl
def arbot_started(bot: Bot) -> None:
    """Let every dashboard sink of ``bot`` show the bot's component state."""
    for sink in bot.sinks:
        if isinstance(sink, DashboardSink):
            sink.attach(bot)
