"""URL helpers shared by the venues' trading wiring."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["origin"]


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: a public stream URL's base, where the venue's private
    stream lives on other paths (``wss://ws.okx.com:8443/ws/v5/public`` -> ``wss://ws.okx.com:8443``)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"
