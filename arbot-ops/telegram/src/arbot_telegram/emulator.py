"""A local Telegram Bot API emulator: a real HTTP server on loopback speaking the Bot API's
``getMe``, ``sendMessage`` and ``getUpdates`` (long polling) with its error shapes.

Tests drive it: :meth:`BotApiEmulator.push_command` queues a user's message, :attr:`sent` holds
every delivered message, :meth:`flood` makes the next ``sendMessage`` calls answer
``429 Too Many Requests`` with ``parameters.retry_after`` (as Telegram does), and
``min_interval_s`` answers 429 to a chat written to faster than that. A wrong token gets
``401 Unauthorized``. It runs on its own thread and event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import attrs
from aiohttp import web

__all__ = ["BotApiEmulator", "SentMessage"]


@attrs.define(frozen=True)
class SentMessage:
    """A message the emulator delivered."""

    chat_id: int
    text: str
    at: float


def _error(code: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


class BotApiEmulator:
    """The emulator; :meth:`start` it, then point a client at :attr:`base_url`."""

    def __init__(
        self, token: str, chats: set[int] | None = None, min_interval_s: float = 0.0, port: int = 0
    ) -> None:
        self.token = token
        self.chats = chats
        self.min_interval_s = min_interval_s
        self.sent: list[SentMessage] = []
        #: (chat_id, time, retry_after) of every 429 answered.
        self.rate_limited: list[tuple[int, float, int]] = []
        self.requests: list[str] = []
        self.unauthorized = 0
        self._floods: list[int] = []
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 1
        self._last_sent: dict[int, float] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_update: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = port

    @property
    def base_url(self) -> str:
        """The ``base_url`` a client uses (the token is appended to it)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- test side --------------------------------------------------------------------------

    def flood(self, retry_after: int, times: int = 1) -> None:
        """Answer the next ``times`` sendMessage calls with 429 and ``retry_after`` seconds."""
        self._call(lambda: self._floods.extend([retry_after] * times))

    def push_command(self, chat_id: int, text: str, date: float | None = None) -> None:
        """Queue a message from a user in ``chat_id`` for the next getUpdates."""

        def push() -> None:
            word = text.split()[0] if text.startswith("/") else ""
            message: dict[str, Any] = {
                "message_id": self._next_message,
                "date": int(date if date is not None else time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "operator"},
                "text": text,
            }
            if word:
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(word)}]
            self._updates.append({"update_id": self._next_update, "message": message})
            self._next_update += 1
            self._next_message += 1
            assert self._new_update is not None
            self._new_update.set()

        self._call(push)

    def texts(self, chat_id: int | None = None) -> list[str]:
        """Texts delivered (to one chat)."""
        return [m.text for m in list(self.sent) if chat_id is None or m.chat_id == chat_id]

    def _call(self, fn: Any) -> None:
        assert self._loop is not None, "start() the emulator first"
        done = threading.Event()

        def run() -> None:
            fn()
            done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(5)

    # -- server --------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data = await request.json()
            return dict(data) if isinstance(data, dict) else {}
        if request.method == "POST":
            form = await request.post()
            out: dict[str, Any] = {}
            for k, v in form.items():
                text = v if isinstance(v, str) else ""
                try:
                    out[k] = json.loads(text)
                except ValueError:
                    out[k] = text
            return out
        return dict(request.query)

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        self.requests.append(method)
        if token != self.token:
            self.unauthorized += 1
            return _error(401, "Unauthorized")
        params = await self._params(request)
        if method == "getMe":
            return _ok(
                {
                    "id": 1,
                    "is_bot": True,
                    "first_name": "ArBot",
                    "username": "arbot_emulated_bot",
                    "can_join_groups": True,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                }
            )
        if method == "sendMessage":
            return self._send_message(params)
        if method == "getUpdates":
            return await self._get_updates(params)
        if method in ("deleteWebhook", "close", "logOut"):
            return _ok(True)
        return _error(404, "Not Found: method not found")

    def _send_message(self, params: dict[str, Any]) -> web.Response:
        try:
            chat_id = int(params["chat_id"])
            text = str(params["text"])
        except (KeyError, ValueError, TypeError):
            return _error(400, "Bad Request: chat_id and text are required")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        if self.chats is not None and chat_id not in self.chats:
            return _error(400, "Bad Request: chat not found")
        now = time.time()
        if self._floods:
            retry = self._floods.pop(0)
            self.rate_limited.append((chat_id, now, retry))
            return _error(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        last = self._last_sent.get(chat_id)
        if self.min_interval_s and last is not None and now - last < self.min_interval_s:
            self.rate_limited.append((chat_id, now, 1))
            return _error(429, "Too Many Requests: retry after 1", retry_after=1)
        self._last_sent[chat_id] = now
        self.sent.append(SentMessage(chat_id, text, now))
        message_id = self._next_message
        self._next_message += 1
        return _ok(
            {
                "message_id": message_id,
                "date": int(now),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": 1, "is_bot": True, "first_name": "ArBot"},
                "text": text,
            }
        )

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        assert self._new_update is not None
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self._updates and time.monotonic() < deadline:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return _ok(list(self._updates))

    def start(self) -> None:
        """Serve on a free loopback port from a thread of its own."""
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._new_update = asyncio.Event()
            app = web.Application()
            app.router.add_route("*", "/bot{token}/{method}", self._handle)
            runner = web.AppRunner(app, access_log=None)  # Telegram's side: its logs are not ArBot's
            try:
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, "127.0.0.1", self.port)
                loop.run_until_complete(site.start())
                self.port = int(runner.addresses[0][1])
            except BaseException as exc:  # report to start()
                errors.append(exc)
                ready.set()
                return
            self._runner = runner
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="telegram-emulator", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise errors[0]

    def stop(self) -> None:
        """Stop serving."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None
