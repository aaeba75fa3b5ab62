"""ArBot run reports: a self-contained HTML report from a run's SQLite journal."""

from arbot_report.journal import Journal, RunData, load_run
from arbot_report.render import render_report, write_report

__all__ = ["Journal", "RunData", "load_run", "render_report", "write_report"]
