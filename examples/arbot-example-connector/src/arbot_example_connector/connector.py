"""The Toyex connector: the venue's parts composed on core's one base connector.

Toyex sends book deltas on the stream and serves the snapshot over REST, so its book
bootstrap is :class:`~arbot.connectors.bootstrap.RestSnapshot` with the ``RangeRule`` sequence
rule (a delta covering ids ``first..last`` follows a book at id ``n`` when ``first <= n + 1``
and ``last > n``; ``first > n + 1`` is a gap). The base connector does the rest: WebSocket
session, reconnects, keep-alive, REST client and rate limit, snapshot fetches and retries,
buffering until the snapshot bridges the deltas, resyncs, stale books, market registration,
``stats()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from arbot.components import MarketEvent
from arbot.config import ComponentSettings
from arbot.connectors.base import FeedSpec, StreamingConnector, StreamingSettings
from arbot.connectors.booksync import RangeRule
from arbot.connectors.bootstrap import RestSnapshot, SnapshotRequest
from arbot.connectors.ratelimit import CountLimiter, RateLimitPolicy
from arbot.connectors.records import BookRecord
from arbot.connectors.replay import RecordReplayDecoder
from arbot.connectors.rest import RestClient
from arbot.connectors.symbols import MarketType, SymbolMap
from arbot.market import MarketInfo, MarketState
from pydantic import Field

from arbot_example_connector.markets import VENUE, parse_markets, toyex_symbols
from arbot_example_connector.protocol import ToyexProtocol, parse_book

__all__ = ["ToyexConnector", "ToyexReplayDecoder", "ToyexSettings", "toyex_bootstrap"]


class ToyexSettings(StreamingSettings):
    """``[connectors.toyex]``: the base keys (URLs, timers, fees...) with Toyex's defaults."""

    rest_url: str = Field("https://api.toyex.example", description="REST base URL")
    ws_url: str = Field("wss://ws.toyex.example/ws", description="public WebSocket URL")
    depth: int = Field(100, ge=1, le=1000, description="levels of a REST snapshot")
    requests_per_second: int = Field(10, gt=0, description="REST requests per second (per IP)")


def book_request(depth: int) -> SnapshotRequest:
    """How a snapshot is fetched: ``GET /book?sym=..&depth=..`` as a SNAPSHOT record."""

    async def request(rest: RestClient, venue_symbol: str) -> BookRecord:
        return parse_book(await rest.get("/book", {"sym": venue_symbol, "depth": depth}))

    return request


def toyex_bootstrap(market: MarketState, emit: Callable[[MarketEvent], None] | None, *,
                    request: SnapshotRequest | None = None, retry_delay: float = 0.25,
                    symbols: SymbolMap | None = None) -> RestSnapshot:
    """Toyex books: stream deltas bridged to a REST snapshot by update id (``RangeRule``).
    Shared by the live connector and the replay decoder, so both apply the same rules."""
    return RestSnapshot(VENUE, market, emit, RangeRule(), request, retry_delay=retry_delay,
                        symbols=symbols if symbols is not None else toyex_symbols())


def read_rest(url: str, body: object) -> BookRecord | SymbolMap | None:
    """A recorded ``/book`` reply is a snapshot; nothing else is needed."""
    return parse_book(body) if "/book" in url else None


class ToyexReplayDecoder(RecordReplayDecoder):
    """Replays Toyex captures (pushes and recorded ``/book`` replies) with the live rules."""

    def __init__(self) -> None:
        super().__init__(ToyexProtocol().parse, lambda m, e: toyex_bootstrap(m, e), read_rest)


class ToyexConnector(StreamingConnector):
    """Toyex spot market data: books from stream deltas + REST snapshots, trades."""

    name: ClassVar[str] = "toyex"
    Settings: ClassVar[type[ComponentSettings]] = ToyexSettings
    description: ClassVar[str] = "Toyex (example): REST-snapshot books, trades, markets"
    #: Test tooling, imported only when an emulator is asked for.
    emulator_class: ClassVar[str] = "arbot_example_connector.emulator:ToyexEmulator"
    #: The emulator serves the WebSocket at ``/ws`` (the venue's own path).
    emulator_paths: ClassVar[dict[str, str]] = {"ws_url": "/ws"}
    replay_class = ToyexReplayDecoder

    def build_feeds(self) -> list[FeedSpec]:
        """One public socket, spot only."""
        s: ToyexSettings = self.settings
        return [FeedSpec((MarketType.SPOT,), s.ws_url, ToyexProtocol(),
                         toyex_bootstrap(self.ctx.market, self.emit, request=book_request(s.depth),
                                         retry_delay=s.snapshot_retry_delay))]

    def new_limiter(self) -> RateLimitPolicy:
        """Toyex allows ``requests_per_second`` REST requests per second."""
        return CountLimiter(self.settings.requests_per_second, 1.0)

    async def fetch_markets(self, market_type: MarketType) -> list[MarketInfo]:
        """``GET /markets``."""
        s: ToyexSettings = self.settings
        return parse_markets(await self.rest.get("/markets"), s.taker_fee, s.maker_fee)
