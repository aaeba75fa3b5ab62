"""An async REST client (aiohttp) with the venue's rate limiter applied to every request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import msgspec

from arbot.connectors.ratelimit import RateLimitPolicy
from arbot.errors import ArbotError

__all__ = ["RestClient", "RestError", "RestStats"]

log = logging.getLogger("arbot.connectors.rest")


class RestError(ArbotError):
    """A REST request failed (``status`` is the HTTP status, 0 for a transport error)."""

    def __init__(self, message: str, status: int = 0, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class RestStats:
    """Counters of one client."""

    __slots__ = ("errors", "rate_limited", "requests", "retries")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.retries = 0
        self.rate_limited = 0

    def as_dict(self) -> dict[str, int]:
        """Counters as a dict."""
        return {k: getattr(self, k) for k in self.__slots__}


class RestClient:
    """GET/POST JSON against one base URL, through a rate limiter.

    Each request books its ``weight`` (and ``endpoint`` for per-endpoint policies) with the
    limiter and waits if needed. 429/418 answers block the limiter for ``Retry-After`` seconds
    and are retried; 5xx answers and transport errors of idempotent requests are retried
    ``retries`` times with a short backoff. ``on_response(headers)`` lets a venue read its
    usage headers (Binance ``X-MBX-USED-WEIGHT-1M``).
    """

    def __init__(
        self,
        base_url: str,
        limiter: RateLimitPolicy | None = None,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        headers: Mapping[str, str] | None = None,
        on_response: Callable[[Mapping[str, str]], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter
        self.timeout = timeout
        self.retries = retries
        self.headers = dict(headers or {})
        self.on_response = on_response
        self.stats = RestStats()
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout), headers=self.headers
            )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        weight: float = 1.0,
        endpoint: str | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        decode: type[Any] | None = None,
    ) -> Any:
        """One request; returns the decoded JSON body (into ``decode`` when given)."""
        url = self.base_url + path
        idempotent = method.upper() in ("GET", "HEAD", "DELETE")
        attempt = 0
        while True:
            if self.limiter is not None:
                await self.limiter.acquire(weight, endpoint or path)
            self.stats.requests += 1
            try:
                async with self._get_session().request(
                    method, url, params=params, data=data, headers=headers
                ) as resp:
                    body = await resp.read()
                    if self.on_response is not None:
                        self.on_response(resp.headers)
                    status = resp.status
                    if status in (418, 429):
                        self.stats.rate_limited += 1
                        wait = float(resp.headers.get("Retry-After", "1") or 1)
                        if self.limiter is not None:
                            self.limiter.block(wait)
                        if attempt < self.retries:
                            attempt += 1
                            self.stats.retries += 1
                            if self.limiter is None:
                                await asyncio.sleep(wait)
                            continue
                        raise RestError(
                            f"{method} {url}: rate limited ({status})", status, body.decode(errors="replace")
                        )
                    if status >= 500 and idempotent and attempt < self.retries:
                        attempt += 1
                        self.stats.retries += 1
                        await asyncio.sleep(0.1 * 2**attempt)
                        continue
                    if status >= 400:
                        self.stats.errors += 1
                        raise RestError(
                            f"{method} {url}: HTTP {status}", status, body.decode(errors="replace")
                        )
            except (aiohttp.ClientError, TimeoutError) as exc:
                if idempotent and attempt < self.retries:
                    attempt += 1
                    self.stats.retries += 1
                    await asyncio.sleep(0.1 * 2**attempt)
                    continue
                self.stats.errors += 1
                raise RestError(f"{method} {url}: {exc!r}") from exc
            if decode is not None:
                return msgspec.json.decode(body, type=decode, strict=False)
            return msgspec.json.decode(body)

    async def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        weight: float = 1.0,
        endpoint: str | None = None,
        decode: type[Any] | None = None,
    ) -> Any:
        """GET ``path`` and decode the JSON body."""
        return await self.request("GET", path, params, weight=weight, endpoint=endpoint, decode=decode)

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None
