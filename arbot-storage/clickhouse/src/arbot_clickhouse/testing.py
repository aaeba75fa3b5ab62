"""A loopback stand-in for a ClickHouse server's HTTP interface that runs every request in chdb
(ClickHouse's own engine), so the clickhouse-connect backend can be tested without a server.

What it does: it accepts ClickHouse HTTP requests — the SQL in the body or in the ``query``
parameter, insert data after the ``INSERT ... FORMAT <fmt>`` line or as the body, settings as
URL parameters, chunked or sized bodies — and executes them in a chdb session: queries in the
format the client asked for (``FORMAT Native``, ``JSON``...), inserts through chdb's streaming
insert in the client's format, settings (such as ``insert_deduplication_token``) as a
``SETTINGS`` clause. Errors come back as ClickHouse does: status 500, ``Code: N.`` text and the
``X-ClickHouse-Exception-Code`` header.

What that proves: clickhouse-connect's side of the conversation — its handshake queries, its
Native encoding of our columns (DateTime64, LowCardinality, Array(Tuple(...)), floats) and
decoding of results, our DDL with TTL and ORDER BY, and deduplicated inserts — is accepted and
executed by a real ClickHouse engine over a real HTTP connection.

What it does not prove: how clickhouse-server itself serves HTTP (authentication, sessions,
compression, progress headers, keep-alive and timeouts), its version-dependent settings, replication
or background TTL merges on a live server. HTTP-transport settings the client sends
(``send_progress_in_http_headers``, ``enable_http_compression``...) are accepted and ignored.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["ChdbHttpEndpoint"]

#: URL parameters of the HTTP interface that are not query settings.
_NOT_SETTINGS = frozenset(
    {
        "query", "database", "default_format", "query_id", "session_id", "compress", "decompress",
        "user", "password", "client_protocol_version", "session_timeout", "session_check",
    }
)  # fmt: skip
#: Settings about the HTTP transport itself, which an embedded engine has no use for.
_TRANSPORT_ONLY = frozenset(
    {
        "cancel_http_readonly_queries_on_client_close", "send_progress_in_http_headers",
        "http_headers_progress_interval_ms", "enable_http_compression", "wait_end_of_query",
    }
)  # fmt: skip
_FORMAT_AT_END = re.compile(r"\s+FORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_INSERT_FORMAT = re.compile(rb"^\s*INSERT\b.*?\bFORMAT\s+(\w+)[ \t]*\r?\n?", re.IGNORECASE | re.DOTALL)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the requests through ``ChdbHttpEndpoint.requests``."""

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        """``/ping`` and queries in the URL."""
        if urlsplit(self.path).path == "/ping":
            self._reply(200, b"Ok.\n", {})
            return
        self._handle(b"")

    def do_POST(self) -> None:
        """Queries and inserts."""
        self._handle(self._body())

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, body: bytes) -> None:
        params = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}
        settings = {k: v for k, v in params.items() if k not in _NOT_SETTINGS and k not in _TRANSPORT_ONLY}
        if "query" in params:
            sql, data = params["query"], body
        else:
            m = _INSERT_FORMAT.match(body)
            if m is not None:
                sql, data = body[: m.end()].decode(), body[m.end() :]
            else:
                sql, data = body.decode(), b""
        self.server.requests.append(sql.strip())
        try:
            out, fmt = self.server.run(sql, data, settings, params.get("default_format", "TabSeparated"))
        except Exception as exc:
            text = str(exc)
            code = re.search(r"Code: (\d+)", text)
            self._reply(
                500,
                (text if text.startswith("Code:") else f"Code: 1001. DB::Exception: {text}").encode(),
                {"X-ClickHouse-Exception-Code": code.group(1) if code else "1001"},
            )
            return
        self._reply(200, out, {"X-ClickHouse-Format": fmt, "X-ClickHouse-Summary": "{}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, session: Any, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.session = session
        self.lock = threading.Lock()
        self.requests: list[str] = []

    def run(self, sql: str, data: bytes, settings: dict[str, str], default_fmt: str) -> tuple[bytes, str]:
        clause = ""
        if settings:
            clause = " SETTINGS " + ", ".join(f"{k} = '{_quote(v)}'" for k, v in settings.items())
        m = _FORMAT_AT_END.search(sql)
        fmt = m.group(1) if m else default_fmt
        head = sql[: m.start()] if m else sql.rstrip().rstrip(";")
        with self.lock:
            if re.match(r"\s*INSERT\b", head, re.IGNORECASE):
                with self.session.send_insert(head + clause, fmt) as ins:
                    if data:
                        ins.append(data)
                    ins.finish()
                return b"", fmt
            is_select = re.match(r"\s*(SELECT|WITH|SHOW|DESCRIBE|EXISTS)\b", head, re.IGNORECASE)
            result = self.session.query(head + (clause if is_select else ""), fmt)
        return result.bytes(), fmt


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


class ChdbHttpEndpoint:
    """Serve ClickHouse's HTTP interface on a loopback port (free one by default) from a chdb
    data folder.

    Use as a context manager; ``port`` is set once started; ``requests`` lists the SQL received.
    """

    def __init__(self, path: Path, port: int = 0) -> None:
        import chdb.session

        path.mkdir(parents=True, exist_ok=True)
        self._session = chdb.session.Session(str(path))
        try:
            self._server = _Server(self._session, port)
        except OSError:
            self._session.close()
            raise
        self._thread = threading.Thread(target=self._server.serve_forever, name="chdb-http", daemon=True)

    @property
    def port(self) -> int:
        """The port the endpoint listens on."""
        return int(self._server.server_address[1])

    @property
    def requests(self) -> list[str]:
        """SQL of every request received, in order."""
        return self._server.requests

    def query(self, sql: str) -> str:
        """Run ``sql`` directly in the endpoint's chdb session (tests' own checks), as CSV."""
        with self._server.lock:
            return str(self._session.query(sql, "CSV").bytes().decode())

    def __enter__(self) -> ChdbHttpEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._session.close()
