"""WsSession against a local websockets server, on both transports (picows and websockets):
messages, garbage, reconnect, resubscribe, idle timeout, rotation, application pings,
protocol pings, fragmented and binary messages, headers, and the transport choice."""

from __future__ import annotations

import asyncio
import random
import sys
from typing import Any

import msgspec
import pytest
from arbot.connectors.ws import Backoff, GarbageFrame, Heartbeat, WsSession
from arbot.connectors.ws_transport import WsTransportKind, choose_transport, picows_available
from websockets.asyncio.server import ServerConnection, serve

TRANSPORTS = [
    pytest.param("picows", marks=pytest.mark.skipif(not picows_available(), reason="picows not installed")),
    "websockets",
]


class Server:
    def __init__(self) -> None:
        self.received: list[str] = []
        self.conns: list[ServerConnection] = []
        self.connections = 0

    async def handler(self, conn: ServerConnection) -> None:
        self.connections += 1
        self.conns.append(conn)
        try:
            async for m in conn:
                self.received.append(m if isinstance(m, str) else m.decode())
                if m == "ping":
                    await conn.send("pong")
                else:
                    await conn.send(msgspec.json.encode({"echo": m}).decode())
        except Exception:
            pass


async def until(cond: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "condition not reached"
        await asyncio.sleep(0.005)


def test_backoff_is_jittered_and_capped() -> None:
    b = Backoff(initial=1, maximum=8, factor=2, jitter=0.5)
    rng = random.Random(1)
    ds = [b.delay(n, rng) for n in range(8)]
    assert all(0.5 * min(8, 2**n) <= d <= min(8, 2**n) for n, d in enumerate(ds))
    assert len(set(ds)) == len(ds)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_session_messages_garbage_reconnect_resubscribe(transport: str) -> None:
    async def main() -> None:
        srv = Server()
        got: list[Any] = []
        closes: list[int] = []

        def on_message(frame: str | bytes, ts: float) -> None:
            if frame == "pong":
                return
            obj = msgspec.json.decode(frame)
            if "echo" not in obj:
                raise GarbageFrame("?")
            got.append(obj["echo"])

        async with serve(srv.handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            s = WsSession(f"ws://127.0.0.1:{port}", on_message,
                          on_close=lambda _s: closes.append(1),
                          backoff=Backoff(initial=0.01, maximum=0.05), seed=3, transport=transport)
            assert s.transport_name == transport
            await s.start(timeout=5)
            await s.subscribe('{"sub":1}')
            await until(lambda: got == ['{"sub":1}'])
            # garbage frames: counted, skipped, the session keeps going
            await srv.conns[-1].send("not json at all")
            await srv.conns[-1].send('{"other": 1}')
            await s.send("after")
            await until(lambda: "after" in got)
            assert s.stats.garbage_frames == 2
            # a dropped connection: reconnect and resubscribe
            srv.conns[-1].transport.abort()
            await until(lambda: srv.connections == 2 and s.connected)
            await until(lambda: srv.received.count('{"sub":1}') == 2)
            assert s.stats.reconnects == 1 and closes == [1]
            await s.close()
            assert not s.connected

    asyncio.run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_idle_timeout_rotation_and_app_ping(transport: str) -> None:
    async def main() -> None:
        srv = Server()
        async with serve(srv.handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            s = WsSession(f"ws://127.0.0.1:{port}", lambda f, t: None,
                          heartbeat=Heartbeat(ping_interval=None, app_ping="ping",
                                              app_ping_interval=0.05, idle_timeout=None),
                          max_lifetime=0.3, backoff=Backoff(initial=0.01), transport=transport)
            await s.start(timeout=5)
            await until(lambda: srv.received.count("ping") >= 2)
            await until(lambda: s.stats.rotations >= 1 and srv.connections >= 2)
            await s.close()
            # idle: the server never sends anything
            s2 = WsSession(f"ws://127.0.0.1:{port}", lambda f, t: None,
                           heartbeat=Heartbeat(ping_interval=None, idle_timeout=0.1),
                           max_lifetime=None, backoff=Backoff(initial=0.01), transport=transport)
            await s2.start(timeout=5)
            await until(lambda: s2.stats.idle_timeouts >= 1 and s2.stats.reconnects >= 1)
            await s2.close()

    asyncio.run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unreachable_url_counts_failed_connects(transport: str) -> None:
    async def main() -> None:
        s = WsSession("ws://127.0.0.1:9", lambda f, t: None, backoff=Backoff(initial=0.01,
                      maximum=0.02), open_timeout=1.0, transport=transport)
        await s.start(wait=False)
        await until(lambda: s.stats.failed_connects >= 2)
        await s.close()

    asyncio.run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_fragments_binary_headers_and_protocol_pings(transport: str) -> None:
    """A fragmented text message arrives whole, a binary one as bytes; the upgrade carries the
    session's headers; a server that stops answering protocol pings is dropped."""

    async def main() -> None:
        got: list[str | bytes] = []
        seen_headers: list[str | None] = []
        conns: list[ServerConnection] = []

        async def handler(conn: ServerConnection) -> None:
            conns.append(conn)
            assert conn.request is not None
            seen_headers.append(conn.request.headers.get("X-Token"))
            await conn.send(["{\"part\": ", "\"one\", ", "\"n\": 1}"])  # three fragments
            await conn.send(b"\x00\x01binary")
            await conn.wait_closed()

        async with serve(handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            s = WsSession(f"ws://127.0.0.1:{port}", lambda f, t: got.append(f),
                          headers=lambda: {"X-Token": "t-1"}, transport=transport,
                          heartbeat=Heartbeat(ping_interval=0.1, ping_timeout=0.1, idle_timeout=None),
                          backoff=Backoff(initial=0.01, maximum=0.02))
            await s.start(timeout=5)
            await until(lambda: len(got) == 2)
            assert got == ['{"part": "one", "n": 1}', b"\x00\x01binary"]
            assert seen_headers == ["t-1"]
            # the server's side stops reading: pings go unanswered and the client reconnects
            conns[-1].transport.pause_reading()
            await until(lambda: s.stats.reconnects >= 1 and len(conns) >= 2)
            conns[0].transport.abort()  # the paused one would hold the server's shutdown
            await s.close()

    asyncio.run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_oversized_fragmented_message_drops_the_connection(transport: str) -> None:
    async def main() -> None:
        got: list[str | bytes] = []
        conns: list[ServerConnection] = []

        async def handler(conn: ServerConnection) -> None:
            conns.append(conn)
            if len(conns) == 1:
                await conn.send(["x" * 600, "y" * 600])  # 1200 bytes > max_size
            await conn.send("small")
            await conn.wait_closed()

        async with serve(handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            s = WsSession(f"ws://127.0.0.1:{port}", lambda f, t: got.append(f), max_size=1000,
                          transport=transport, backoff=Backoff(initial=0.01, maximum=0.02))
            await s.start(timeout=5)
            await until(lambda: "small" in got and s.stats.reconnects >= 1)
            assert all(len(f) < 1000 for f in got)
            await s.close()

    asyncio.run(main())


def test_transport_choice_and_fallback_reasons(caplog: pytest.LogCaptureFixture) -> None:
    assert choose_transport("websockets").transport.name == "websockets"
    assert choose_transport("websockets").reason == ""
    deflate = choose_transport(WsTransportKind.PICOWS, compression="deflate")
    assert deflate.transport.name == "websockets"
    assert "deflate" in deflate.reason
    auto = choose_transport("auto")
    if picows_available():
        assert (auto.transport.name, auto.reason) == ("picows", "")
    else:
        assert auto.transport.name == "websockets" and "not installed" in auto.reason
    with pytest.raises(ValueError):
        choose_transport("aiohttp")

    async def main() -> None:
        with caplog.at_level("WARNING", logger="arbot.connectors.ws"):
            s = WsSession("ws://127.0.0.1:9", lambda f, t: None, transport="picows",
                          compression="deflate", name="deflated")
        assert s.transport_name == "websockets"
        assert "deflated: WebSocket transport websockets: per-message deflate" in caplog.text

    asyncio.run(main())


def test_a_picows_that_fails_to_import_falls_back_to_websockets(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A real package named picows whose import fails (as a build for another Python does):
    auto and picows sessions get websockets with the reason logged, not an ImportError."""
    broken = tmp_path / "picows"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('undefined symbol: PyFake_Call')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "picows" or m.startswith("picows.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "arbot.connectors.ws_picows", raising=False)
    assert picows_available()
    for kind in ("auto", "picows"):
        choice = choose_transport(kind)
        assert choice.transport.name == "websockets"
        assert "cannot be imported (undefined symbol: PyFake_Call)" in choice.reason
    with caplog.at_level("INFO", logger="arbot.connectors.ws"):
        s = WsSession("ws://127.0.0.1:9", lambda f, t: None, transport="auto", name="autofeed")
    assert s.transport_name == "websockets"
    assert "autofeed: WebSocket transport websockets: picows is installed but cannot" in caplog.text


def _self_signed(tmp_path: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key (PEM files), signed by itself."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arbot-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_tls_with_certificate_verification(transport: str, tmp_path: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """``wss://`` verifies the server's certificate with the default context (as for a real
    venue): trusted (``SSL_CERT_FILE``), messages flow; untrusted, every connect fails."""
    import ssl

    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)

    async def main(trusted: bool) -> WsSession:
        srv = Server()
        got: list[str | bytes] = []
        async with serve(srv.handler, "127.0.0.1", 0, ssl=server_ctx) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            s = WsSession(f"wss://127.0.0.1:{port}", lambda f, t: got.append(f), transport=transport,
                          backoff=Backoff(initial=0.01, maximum=0.02), open_timeout=2.0)
            await s.start(wait=False)
            if trusted:
                await s.wait_connected(5)
                await s.send("hello")
                await until(lambda: got == ['{"echo":"hello"}'])
            else:
                await until(lambda: s.stats.failed_connects >= 2)
            await s.close()
            return s

    monkeypatch.setenv("SSL_CERT_FILE", cert)
    assert asyncio.run(main(True)).stats.connects == 1
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    assert asyncio.run(main(False)).stats.connects == 0
