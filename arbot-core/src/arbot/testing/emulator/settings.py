"""Test-sized settings of a connector pointed at its emulator."""

from __future__ import annotations

from typing import Any

from arbot.components import Connector
from arbot.config import ComponentSettings
from arbot.testing.emulator.server import EmulatorServer

__all__ = ["TEST_TIMERS", "fast_settings"]

#: Timers that let a test see reconnects, stale books and resubscriptions in a fraction of a
#: second (every :class:`~arbot.connectors.base.StreamingSettings` has these keys).
TEST_TIMERS: dict[str, float] = {
    "backoff_initial": 0.02, "backoff_max": 0.2, "idle_timeout": 0.25, "stale_after": 0.2,
    "resubscribe_after": 0.3, "snapshot_retry_delay": 0.02, "messages_per_second": 10.0,
}


def fast_settings(connector: type[Connector], emulator: EmulatorServer, **extra: Any) -> ComponentSettings:
    """``connector.Settings`` pointing at the started ``emulator``
    (``connector.emulated_settings``) with :data:`TEST_TIMERS` for the keys the settings model
    has; ``extra`` overrides."""
    fields = connector.Settings.model_fields
    values: dict[str, Any] = {k: v for k, v in TEST_TIMERS.items() if k in fields}
    values.update(connector.emulated_settings(emulator))
    values.update(extra)
    return connector.Settings(**values)
