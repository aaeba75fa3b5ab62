"""Plugin registration: the ``rebalancer`` sink, enabled by ``[rebalancer] enabled = true``."""

from __future__ import annotations

from collections.abc import Sequence

from arbot.components import Sink
from arbot.hookspecs import hookimpl

from arbot_rebalancer.sink import RebalancerSink


@hookimpl
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """The ``rebalancer`` sink."""
    return [RebalancerSink]
