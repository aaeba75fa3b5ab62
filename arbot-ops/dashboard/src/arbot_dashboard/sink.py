"""The ``dashboard`` sink: keeps the event feed and serves the page on its own thread.

``arbot run CONFIG --dashboard [--port P]`` enables it; or list it in ``[sinks] enabled``
with a ``[sinks.dashboard]`` table. The web server (uvicorn) runs on a thread of its own with
its own event loop, so a slow page never slows the engine; the engine only appends events to
the sink's buffer.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from typing import Any, ClassVar

import uvicorn
from arbot.bot import Bot
from arbot.components import BotContext
from arbot.config import ComponentSettings
from arbot.errors import ConfigError
from arbot.sinks.base import BatchingSettings, BatchingSink, RunInfo
from pydantic import Field, SecretStr

from arbot_dashboard.app import create_app
from arbot_dashboard.feed import EventFeed
from arbot_dashboard.state import bot_state

__all__ = ["TOKEN_ENV", "DashboardSettings", "DashboardSink", "is_loopback"]

#: Environment variable the token is read from when the table does not set one.
TOKEN_ENV = "ARBOT_DASHBOARD_TOKEN"


def _token_from_env() -> SecretStr:
    return SecretStr(os.environ.get(TOKEN_ENV, ""))


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DashboardSettings(BatchingSettings):
    """``[sinks.dashboard]``: where the page is served and how often it is pushed."""

    host: str = Field("127.0.0.1", description="address to bind; beyond loopback a token is required")
    port: int = Field(8765, ge=0, le=65535, description="0: any free port")
    interval_s: float = Field(0.5, gt=0.0, le=60.0, description="seconds between two pushes to a page")
    keep: int = Field(50, ge=1, le=1000, description="opportunities and fills listed")
    token: SecretStr = Field(default_factory=_token_from_env, description=f"default: ${TOKEN_ENV}")
    flush_interval_s: float = Field(
        0.2, gt=0,
        description="Seconds between pushes of the latest state to the connected browsers.",
    )


class DashboardSink(BatchingSink[DashboardSettings]):
    """Live web dashboard of the bot (read-only)."""

    name: ClassVar[str] = "dashboard"
    description: ClassVar[str] = "live web dashboard over a WebSocket (arbot run --dashboard)"
    Settings: ClassVar[type[ComponentSettings]] = DashboardSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        token = settings.token.get_secret_value()
        if not is_loopback(settings.host) and not token:
            raise ConfigError(
                f"[sinks.dashboard] host = {settings.host!r} is beyond loopback: set a token "
                f"(${TOKEN_ENV} or [sinks.dashboard] token) so only you can read the dashboard"
            )
        self.feed = EventFeed(settings.keep)
        self._bot: Bot | None = None
        self._token = token or None
        self._server: uvicorn.Server | None = None
        self._server_thread: threading.Thread | None = None
        #: The port the page is served on (known once started).
        self.port: int | None = None

    def attach(self, bot: Bot) -> None:
        """Show ``bot``'s component state (called by the plugin's ``arbot_started``)."""
        self._bot = bot

    def state(self) -> dict[str, Any]:
        """What one push to the page carries."""
        bot = self._bot
        base: dict[str, Any] = {
            "ts": time.time(),
            "mode": self.ctx.mode,
            "run_id": self.ctx.run_id,
            "books": [],
            "spreads": [],
            "connectors": [],
            "portfolio": {},
            "performance": {},
            "risk": {},
        }  # the same shape before the bot is attached (the server starts first)
        if bot is not None:
            base = bot_state(bot)
        base["feed"] = self.feed.snapshot()
        return base

    @property
    def url(self) -> str:
        """Address of the page."""
        return f"http://{self.settings.host}:{self.port}/"

    def start(self) -> None:
        """Start the web server, wait until it listens, then the writer thread."""
        app = create_app(self.state, self._token, self.settings.interval_s)
        config = uvicorn.Config(
            app,
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            ws_ping_interval=None,
        )
        host, port = self.settings.host, self.settings.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart within TIME_WAIT binds again
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise ConfigError(
                f"the dashboard could not listen on {host}:{port} ({exc.strerror or exc}; "
                "port in use? choose another with --port)"
            ) from None
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="arbot-dashboard", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10.0
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise ConfigError(f"the dashboard's web server did not start on {host}:{port}")
            time.sleep(0.02)
        self._server, self._server_thread = server, thread
        self.port = int(sock.getsockname()[1])
        print(f"dashboard: {self.url}", flush=True)
        super().start()

    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        """Add the batch's signals and reports to the feed."""
        add = self.feed.add
        for event in batch:
            add(event)

    def close(self) -> None:
        """Flush the feed, then stop the web server."""
        super().close()
        if self._server is not None:
            self._server.should_exit = True
        if self._server_thread is not None:
            self._server_thread.join(timeout=10.0)
            self._server_thread = None
        self._server = None
