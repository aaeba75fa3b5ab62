"""Plugin registration: the ``prometheus`` sink, bound to its bot when the bot starts."""

from __future__ import annotations

from collections.abc import Sequence

from arbot.bot import Bot
from arbot.components import Sink
from arbot.hookspecs import hookimpl

from arbot_prometheus.sink import PrometheusSink


@hookimpl
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """The ``prometheus`` sink."""
    return [PrometheusSink]


@hookimpl
def arbot_started(bot: Bot) -> None:
    """Let every prometheus sink of ``bot`` export the bot's component state."""
    for sink in bot.sinks:
        if isinstance(sink, PrometheusSink):
            sink.attach(bot)
