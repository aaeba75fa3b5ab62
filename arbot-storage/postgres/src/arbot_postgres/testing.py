"""Test helpers of arbot-postgres (used by its tests; importable by other packages' tests).

:class:`PrivateServer` is a throw-away PostgreSQL cluster for tests that stop and restart a
server: ``initdb`` in a temporary folder and ``pg_ctl`` on a free loopback port, run as the
``postgres`` user (the server refuses root). The shared server on 5432 is never stopped, so
other test runs are not disturbed.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import asyncpg

__all__ = ["SERVER", "PrivateServer", "admin", "query", "sinks_table", "sinks_toml"]

SERVER = "postgresql://postgres@127.0.0.1:5432"


def sinks_table(enabled: list[str], settings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``[sinks]`` table enabling ``enabled`` with each sink's settings."""
    return {"enabled": enabled, **settings}


def sinks_toml(enabled: list[str], settings: dict[str, dict[str, Any]]) -> str:
    """The same as TOML text."""
    lines = ["[sinks]", "enabled = [" + ", ".join(f'"{n}"' for n in enabled) + "]"]
    for name, table in settings.items():
        lines.append(f"[sinks.{name}]")
        for key, value in table.items():
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


async def admin(sql: str) -> None:
    """Run one statement on the shared server's ``postgres`` database."""
    conn = await asyncpg.connect(f"{SERVER}/postgres", timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def query(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Run one query against ``dsn`` and return its rows."""

    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(go())


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(
            f"{name} not found under /usr/lib/postgresql/*/bin: install the postgresql package"
        )
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    return args if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *args]


class PrivateServer:
    """One throw-away cluster: :meth:`start`, :meth:`stop` (fast shutdown), :meth:`destroy`."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="arbot-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )

    @property
    def dsn(self) -> str:
        """DSN of the ``postgres`` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        cmd = [_bin("pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args]
        subprocess.run(_as_postgres(cmd), check=True, capture_output=True, timeout=90)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", opts, "-l", str(self.root / "log"), "start")

    def stop(self) -> None:
        """Stop the server at once (``-m fast``: open connections are cut)."""
        self._ctl("-m", "fast", "stop")

    def destroy(self) -> None:
        """Stop (if running) and delete the cluster."""
        subprocess.run(
            _as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)
