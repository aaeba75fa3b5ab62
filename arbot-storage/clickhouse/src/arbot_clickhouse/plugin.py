"""The ``arbot`` entry point of arbot-clickhouse: the ``clickhouse`` sink and source."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Sink, Source

from arbot_clickhouse.sink import ClickHouseSink
from arbot_clickhouse.source import ClickHouseSource


@hookimpl
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """The market-data sink."""
    return [ClickHouseSink]


@hookimpl
def arbot_register_sources() -> Sequence[type[Source]]:
    """The history source."""
    return [ClickHouseSource]
