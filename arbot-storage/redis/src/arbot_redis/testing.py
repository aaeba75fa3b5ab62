"""A private Redis server for tests that shut one down (``SHUTDOWN NOSAVE``) and restart it:
``redis-server`` on a free loopback port with an append-only file fsynced on every write, so
what was acknowledged before the shutdown is there after the restart. The shared server on
6379 is never touched."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

__all__ = ["PrivateRedis"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """:meth:`start`, :meth:`shutdown_nosave`, :meth:`destroy`; ``url`` for clients."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="arbot-redis-"))
        self.port = _free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers."""
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server not found: install the redis-server package")
        self._proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir), "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def shutdown_nosave(self) -> None:
        """``SHUTDOWN NOSAVE`` and wait for the process to end."""
        client = redis.Redis.from_url(self.url)
        with contextlib.suppress(redis.ConnectionError):  # the server hangs up as it goes
            client.shutdown(nosave=True)
        client.close()
        if self._proc is not None:
            self._proc.wait(timeout=30)
            self._proc = None

    def destroy(self) -> None:
        """Stop the server (if running) and delete its folder."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=30)
            self._proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
