"""Run ``arbot emulate VENUE`` as a child process for a test, and point a client at it.

:func:`emulate_process` starts the command, reads the JSON object of its first stdout line and
stops the process (its own pid only) when the block ends. :func:`rebase_urls` rewrites every URL
of a client's URL table (ccxt's ``exchange.urls["api"]``, nested dicts of strings) to the
emulator's HTTP address, keeping each path.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

__all__ = ["EmulateOutput", "emulate_process", "rebase_urls"]


class EmulateOutput:
    """The first stdout line of ``arbot emulate`` (``info``) and the process behind it."""

    def __init__(self, info: dict[str, Any], process: subprocess.Popen[str]) -> None:
        self.info = info
        self.process = process

    @property
    def http_url(self) -> str:
        """The emulator's HTTP base URL."""
        return str(self.info["http_url"])


@contextmanager
def emulate_process(venue: str, *args: str, timeout: float = 60.0) -> Iterator[EmulateOutput]:
    """``arbot emulate VENUE ARGS... --duration timeout`` as a child process."""
    cmd = [sys.executable, "-m", "arbot", "emulate", venue, "--duration", str(timeout), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read() if proc.stderr is not None else ""
            raise AssertionError(f"arbot emulate {venue} printed nothing; stderr: {err[-2000:]}")
        yield EmulateOutput(json.loads(line), proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def rebase_urls(table: MutableMapping[str, Any], base: str) -> None:
    """Point every ``http(s)://`` URL in ``table`` (recursively) at ``base``, keeping paths."""
    for key, value in list(table.items()):
        if isinstance(value, MutableMapping):
            rebase_urls(value, base)
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            table[key] = base.rstrip("/") + urlsplit(value).path
