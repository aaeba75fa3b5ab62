"""ArBot's market-data store in ClickHouse (TRD §4.2): a sink with two backends (chdb embedded,
clickhouse-connect for a server) and a source that replays the history into a backtest."""

from arbot_clickhouse.backends import ChdbBackend, ClickHouseBackend, HttpBackend
from arbot_clickhouse.schema import create_statements
from arbot_clickhouse.sink import ClickHouseSink, ClickHouseSinkSettings
from arbot_clickhouse.source import ClickHouseSource, ClickHouseSourceSettings

__all__ = [
    "ChdbBackend",
    "ClickHouseBackend",
    "ClickHouseSink",
    "ClickHouseSinkSettings",
    "ClickHouseSource",
    "ClickHouseSourceSettings",
    "HttpBackend",
    "create_statements",
]
