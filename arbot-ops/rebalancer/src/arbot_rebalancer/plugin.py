"""Plugin registration: the ``rebalancer`` sink, enabled by ``[rebalancer] enabled = true``, kept in
step with a simulated executor's venue ledgers when the bot starts."""

from __future__ import annotations

from collections.abc import Sequence

from arbot.bot import Bot
from arbot.components import Sink
from arbot.execution.executors import LiveExecutor, SimulatedExecutor
from arbot.hookspecs import hookimpl

from arbot_rebalancer.sink import RebalancerSink


@hookimpl
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """The ``rebalancer`` sink."""
    return [RebalancerSink]


@hookimpl
def arbot_started(bot: Bot) -> None:
    """Live: read networks from the live executor's gateways. Backtest and paper: let simulated
    transfers move the simulated executor's venue ledgers too."""
    executor = bot.executor
    if isinstance(executor, LiveExecutor):
        for sink in bot.sinks:
            if isinstance(sink, RebalancerSink):
                sink.network_sources = executor.gateways  # a live view: gateways attach later
        return
    if not isinstance(executor, SimulatedExecutor):
        return

    def ledger(venue: str) -> dict[str, float]:
        return executor.gateway(venue).ledger

    for sink in bot.sinks:
        if isinstance(sink, RebalancerSink) and sink.simulate:
            sink.transit.ledgers = ledger
