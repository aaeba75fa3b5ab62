"""ArBot live web dashboard: a sink serving a page and a WebSocket feed of the bot's state."""

from arbot_dashboard.sink import DashboardSettings, DashboardSink

__all__ = ["DashboardSettings", "DashboardSink"]
