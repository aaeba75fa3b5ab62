"""The login answer of the private WebSocket streams that log in with an ``op`` frame.

OKX and Bitget take ``{"op": "login", "args": [...]}`` and answer ``{"event": "login",
"code": "0"}`` when the key is accepted, ``{"event": "login", "code": ..., "msg": ...}`` or
``{"event": "error", "code": ..., "msg": ...}`` when it is not. :func:`op_login_reply` reads
such a frame for :func:`arbot.trading.private_stream.private_stream`.
"""

from __future__ import annotations

from arbot.trading.private_stream import LoginVerdict

__all__ = ["op_login_reply"]


def op_login_reply(msg: object) -> LoginVerdict:
    """True for an accepted login, the refusal's text for a refused one, None for any other
    frame."""
    if not isinstance(msg, dict):
        return None
    event = msg.get("event")
    if event == "login":
        return True if str(msg.get("code")) == "0" else str(msg.get("msg"))
    if event == "error":
        return f"{msg.get('code')}: {msg.get('msg')}"
    return None
