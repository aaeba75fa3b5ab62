"""The ``prometheus`` sink: event metrics plus the bot's component state, served or written out.

Two ways out, chosen by ``export``:

- ``serve`` (default in paper and live runs): an HTTP server on ``host:port`` answers
  ``GET /metrics`` for Prometheus to scrape.
- ``textfile`` (default in backtests, which end before any scrape): the metrics are written
  atomically to ``textfile`` (default ``<output_dir>/metrics/arbot.prom``) every
  ``flush_interval_s`` and at the end, in the text format node-exporter's textfile collector
  reads (``--collector.textfile.directory``). No Pushgateway is needed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, ClassVar, Literal
from wsgiref.simple_server import WSGIServer

from arbot.bot import Bot
from arbot.components import BotContext
from arbot.config import ComponentSettings
from arbot.events import SignalRecord, SignalStatus
from arbot.sinks.base import BatchingSettings, BatchingSink, RunInfo
from prometheus_client import CollectorRegistry, start_http_server, write_to_textfile
from pydantic import Field

from arbot_prometheus.events import EventMetrics
from arbot_prometheus.state import BotStateCollector

__all__ = ["PrometheusSettings", "PrometheusSink"]


class PrometheusSettings(BatchingSettings):
    """``[sinks.prometheus]``: where the metrics go."""

    export: Literal["auto", "serve", "textfile"] = Field(
        "auto", description="auto: serve in paper/live runs, textfile in backtests"
    )
    host: str = Field("127.0.0.1", description="address the /metrics server binds")
    port: int = Field(9464, ge=0, le=65535, description="port of the /metrics server (0: any free port)")
    textfile: str | None = Field(None, description="default: <output_dir>/metrics/arbot.prom")


class PrometheusSink(BatchingSink[PrometheusSettings]):
    """Prometheus metrics of a bot: events (via the batch writer) plus component state at scrape time."""

    name: ClassVar[str] = "prometheus"
    description: ClassVar[str] = "Prometheus metrics on /metrics or a node-exporter textfile"
    Settings: ClassVar[type[ComponentSettings]] = PrometheusSettings
    wants_market_data: ClassVar[bool] = True

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self.registry = CollectorRegistry(auto_describe=True)
        self.metrics = EventMetrics(self.registry)
        export = settings.export
        if export == "auto":
            export = "textfile" if ctx.mode == "BACKTEST" else "serve"
        self.export: str = export
        self.textfile_path = (
            ctx.config.resolve_path(settings.textfile)
            if settings.textfile
            else ctx.output_path / "metrics" / "arbot.prom"
        )
        self._server: WSGIServer | None = None
        self._server_thread: threading.Thread | None = None
        self._wall_clock = ctx.mode != "BACKTEST"
        self._collector: BotStateCollector | None = None
        #: The port the /metrics server listens on (known once started).
        self.port: int | None = None

    def attach(self, bot: Bot) -> None:
        """Export the state of ``bot``'s components too (called by the plugin's ``arbot_started``)."""
        if self._collector is None:
            self.metrics.initialise(
                bot.source.venues(), [d.name for d in bot.detectors], [r.name for r in bot.risk_rules]
            )
            self._collector = BotStateCollector(bot)
            self.registry.register(self._collector)

    # -- engine side: stamp the decision time of signals on the hot path ------------------

    def emit(self, event: Any) -> None:
        """Enqueue ``event``; a decided signal also records its tick-to-decision latency now."""
        if self._wall_clock and type(event) is SignalRecord and event.status is not SignalStatus.EXECUTED:
            # rejected / detect-only records are emitted at the moment of decision; executed ones
            # only after the fill, so they would measure the order, not the decision
            opp = event.opportunity
            self.metrics.decision_latency.labels(opp.strategy).observe(max(0.0, time.time() - opp.ts))
        super().emit(event)

    # -- writer thread ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the /metrics server (serve) and the writer thread."""
        if self.export == "serve":
            server, thread = start_http_server(self.settings.port, self.settings.host, self.registry)
            self._server, self._server_thread = server, thread
            self.port = int(server.server_port)
        super().start()

    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        """Update the event metrics; in textfile mode, rewrite the file.

        The events are counted exactly once: a failed textfile write is counted
        (``textfile_errors``) and retried with the next batch and at close, never by replaying
        the batch, which would count its events twice.
        """
        self.metrics.observe_batch(batch)
        if self.export == "textfile":
            try:
                self._write_textfile()
            except OSError as exc:
                self.counters["textfile_errors"] += 1
                self.last_error = f"{type(exc).__name__}: {exc}"

    def close_store(self) -> None:
        """Write the final textfile (textfile mode)."""
        if self.export == "textfile":
            self._write_textfile()

    def close(self) -> None:
        """Flush, then stop the /metrics server."""
        super().close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._server_thread is not None:
            self._server_thread.join(timeout=5.0)
            self._server_thread = None

    def _write_textfile(self) -> None:
        path = Path(self.textfile_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), self.registry)
