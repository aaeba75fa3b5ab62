"""Plugin registration: the ``rebalancer`` sink, enabled by ``[rebalancer] enabled = true``, wired
to the live source (its own withdrawal gateways) or to a simulated executor's venue ledgers when
the bot starts."""

from __future__ import annotations

from collections.abc import Sequence

from arbot.bot import Bot
from arbot.components import Sink
from arbot.execution.executors import LiveExecutor, SimulatedExecutor
from arbot.hookspecs import hookimpl
from arbot.sources.live import LiveSource

from arbot_rebalancer.sink import RebalancerSink
from arbot_rebalancer.withdrawal_gateways import check_withdraw_venues


@hookimpl
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """The ``rebalancer`` sink."""
    return [RebalancerSink]


@hookimpl
def arbot_started(bot: Bot) -> None:
    """Live: read networks from the live executor's gateways and, with ``execute = true``, check
    that every ``withdraw_keys`` venue can withdraw (a config error otherwise) and let each check
    build its withdrawal gateways on the live source's connectors. Backtest and paper: let
    simulated transfers move the simulated executor's venue ledgers too."""
    executor = bot.executor
    sinks = [s for s in bot.sinks if isinstance(s, RebalancerSink)]
    live = [s for s in sinks if not s.simulate and bot.ctx.mode == "LIVE"]
    for sink in live:
        if sink.settings.execute:
            check_withdraw_venues(sink.settings, bot.ctx)
        if isinstance(bot.source, LiveSource):
            sink.live_source = bot.source  # connectors open later; each check reads them
        if isinstance(executor, LiveExecutor):
            sink.network_sources = executor.gateways  # a live view: gateways attach later
            sink.trading_gateways = executor.gateways
    if not isinstance(executor, SimulatedExecutor):
        return

    def ledger(venue: str) -> dict[str, float]:
        return executor.gateway(venue).ledger

    for sink in sinks:
        if sink.simulate:
            sink.transit.ledgers = ledger
