"""The ASGI app: the page at ``/``, the state as JSON at ``/state``, the live feed at ``/ws``.

Read-only: no route changes anything. With a token configured, every route demands it as the
``token`` query parameter (compared in constant time); the WebSocket is closed with 1008 and
the HTTP routes answer 401 otherwise.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from arbot_dashboard.page import PAGE

__all__ = ["create_app", "to_json"]


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def to_json(state: dict[str, Any]) -> str:
    """The state as JSON a browser parses (NaN and infinities become null)."""
    return json.dumps(_finite(state), separators=(",", ":"))


def create_app(state: Callable[[], dict[str, Any]], token: str | None, interval_s: float) -> Starlette:
    """The dashboard app pushing ``state()`` every ``interval_s`` to each connected page."""

    def allowed(conn: HTTPConnection) -> bool:
        if not token:
            return True
        given = conn.query_params.get("token", "")
        return hmac.compare_digest(given.encode(), token.encode())

    async def page(request: Request) -> Response:
        if not allowed(request):
            return PlainTextResponse("a token is required: open /?token=...", status_code=401)
        return HTMLResponse(PAGE, headers={"Cache-Control": "no-store"})

    async def state_json(request: Request) -> Response:
        if not allowed(request):
            return PlainTextResponse("a token is required", status_code=401)
        return Response(to_json(state()), media_type="application/json")

    async def feed(ws: WebSocket) -> None:
        if not allowed(ws):
            await ws.close(code=1008)
            return
        await ws.accept()
        try:
            while True:
                await ws.send_text(to_json(state()))
                await asyncio.sleep(interval_s)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # the page went away (or is reconnecting): nothing to clean up

    return Starlette(
        routes=[Route("/", page), Route("/state", state_json), WebSocketRoute("/ws", feed)],
    )
