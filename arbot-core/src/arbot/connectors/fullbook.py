"""The full top-N book venue family (Upbit; Bithumb's current API mirrors it): every
``orderbook`` message is the whole top-N book, one request frame carries the whole
subscription set, text ``PING`` keep-alive, binary or text frames.

* messages — :func:`decode` (raw frames) / :func:`parse` (JSON-decoded) of the ``orderbook``
  and ``trade`` messages in both formats (SIMPLE: ``ty``, ``cd``, ``tms``, ``obu`` with
  ``ap``/``bp``/``as``/``bs``, trades ``tp``/``tv``/``ab``/``sid``/``ttms``; DEFAULT: long keys)
  into :class:`FullBookMsg` / :class:`~arbot.connectors.parsing.TradeMsg` records, and
  :func:`head` to route a raw frame; market codes are quote first (:func:`code_to_unified`);
* :class:`FullBookHandler` — books through the core
  :class:`~arbot.connectors.booksync.BookSync` with ``NoSequenceRule``: the first message of a
  book is its snapshot, each later one the delta from the book held (levels that left the top N
  are deleted); a message strictly older (venue time) than the applied one is stale. Shared by
  the live connector and :class:`FullBookReplayDecoder`;
* :class:`FullBookConnector` / :class:`FullBookSettings` — the live connector base: a venue
  subclass sets its name, settings defaults, :meth:`~FullBookConnector.parse_markets` (and
  may change :meth:`~FullBookConnector.book_code`, :meth:`~FullBookConnector.fetch_ticks`).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from abc import abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from pydantic import Field

from arbot.components import BotContext, MarketEvent
from arbot.config import ComponentSettings
from arbot.connectors.booksync import BookSync, NoSequenceRule
from arbot.connectors.parsing import TradeMsg
from arbot.connectors.ratelimit import CountLimiter, RateLimitPolicy, SubscriptionPacer
from arbot.connectors.replay import HandlerReplayDecoder
from arbot.connectors.rest import RestClient
from arbot.connectors.scaffold import ScaffoldConnector, stop_tasks
from arbot.connectors.symbols import SymbolMap
from arbot.connectors.ws import Backoff, GarbageFrame, Heartbeat, WsSession
from arbot.events import Side, TradeTick
from arbot.market import MarketInfo, MarketState

if TYPE_CHECKING:
    from arbot.testing.emulator import EmulatorServer

__all__ = [
    "FullBookConnector",
    "FullBookHandler",
    "FullBookMsg",
    "FullBookReplayDecoder",
    "FullBookSettings",
    "Head",
    "Recency",
    "TradeMsg",
    "book_diff",
    "code_symbols",
    "code_to_unified",
    "decode",
    "epoch_seconds",
    "head",
    "parse",
    "replace_verdict",
    "unified_to_code",
]

log = logging.getLogger("arbot.connectors.fullbook")


# -- market codes ------------------------------------------------------------------------------


def code_to_unified(code: str) -> str:
    """``KRW-BTC`` (quote first) -> ``BTC/KRW``."""
    quote, _, base = code.partition("-")
    return f"{base}/{quote}" if base else code


def unified_to_code(symbol: str) -> str:
    """``BTC/KRW`` -> ``KRW-BTC``."""
    base, _, quote = symbol.partition("/")
    return f"{quote}-{base}" if quote else symbol


def code_symbols(codes: Iterable[str] = ()) -> SymbolMap:
    """A symbol map of quote-first market codes (``codes`` preloaded)."""
    return SymbolMap(((c, code_to_unified(c)) for c in codes), guess=code_to_unified,
                     to_venue_format=unified_to_code)


# -- messages ----------------------------------------------------------------------------------


def epoch_seconds(value: float | int | str | None) -> float | None:
    """Venue timestamp (ms, or µs in newer messages; number or string) -> seconds."""
    if value in (None, ""):
        return None
    v = float(value)
    return v / 1e6 if v > 1e14 else v / 1e3


class FullBookMsg(msgspec.Struct, gc=False):
    """One book message of one market: a full top-N book (``is_snapshot`` True) or, for feeds
    that send them (Bithumb's legacy one), per-level changes."""

    symbol: str
    is_snapshot: bool
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    ts: float | None


class _SUnit(msgspec.Struct):
    ap: float = 0.0
    bp: float = 0.0
    as_: float = msgspec.field(default=0.0, name="as")
    bs: float = 0.0


class _SBook(msgspec.Struct):
    cd: str
    obu: list[_SUnit]
    tms: int | None = None


class _STrade(msgspec.Struct):
    cd: str
    tp: float
    tv: float
    ab: str
    ttms: int | None = None
    tms: int | None = None
    sid: int | str = ""


class _DUnit(msgspec.Struct):
    ask_price: float = 0.0
    bid_price: float = 0.0
    ask_size: float = 0.0
    bid_size: float = 0.0


class _DBook(msgspec.Struct):
    code: str
    orderbook_units: list[_DUnit]
    timestamp: int | str | None = None


class _DTrade(msgspec.Struct):
    code: str
    trade_price: float
    trade_volume: float
    ask_bid: str
    trade_timestamp: int | str | None = None
    timestamp: int | str | None = None
    sequential_id: int | str = ""


class _Head(msgspec.Struct):
    ty: str = ""
    type: str = ""
    status: str = ""
    error: Any = None


class Head(msgspec.Struct, gc=False):
    """The routing fields of a raw frame: ``kind`` is ``orderbook``/``trade`` (a market
    message, either format), ``other`` (another message type such as ``ticker``), ``status``
    (the ``{"status":"UP"}`` keep-alive reply), ``error`` or ``""`` (not a venue message)."""

    kind: str
    error: Any


_head_dec = msgspec.json.Decoder(_Head)
_decs: dict[str, msgspec.json.Decoder[Any]] = {
    "s:orderbook": msgspec.json.Decoder(_SBook, strict=False),
    "s:trade": msgspec.json.Decoder(_STrade, strict=False),
    "d:orderbook": msgspec.json.Decoder(_DBook, strict=False),
    "d:trade": msgspec.json.Decoder(_DTrade, strict=False),
}
_types: dict[str, type] = {"s:orderbook": _SBook, "s:trade": _STrade, "d:orderbook": _DBook,
                           "d:trade": _DTrade}


def _side(ab: str) -> Side:
    return Side.BUY if ab == "BID" else Side.SELL


def _record(obj: Any) -> FullBookMsg | TradeMsg:
    if type(obj) is _SBook:
        bids = [(u.bp, u.bs) for u in obj.obu if u.bp > 0.0 and u.bs > 0.0]
        asks = [(u.ap, u.as_) for u in obj.obu if u.ap > 0.0 and u.as_ > 0.0]
        return FullBookMsg(obj.cd, True, bids, asks, epoch_seconds(obj.tms))
    if type(obj) is _DBook:
        units = obj.orderbook_units
        bids = [(u.bid_price, u.bid_size) for u in units if u.bid_price > 0.0 and u.bid_size > 0.0]
        asks = [(u.ask_price, u.ask_size) for u in units if u.ask_price > 0.0 and u.ask_size > 0.0]
        return FullBookMsg(obj.code, True, bids, asks, epoch_seconds(obj.timestamp))
    if type(obj) is _STrade:
        return TradeMsg(obj.cd, obj.tp, obj.tv, _side(obj.ab),
                        epoch_seconds(obj.ttms or obj.tms), str(obj.sid))
    assert type(obj) is _DTrade
    return TradeMsg(obj.code, obj.trade_price, obj.trade_volume, _side(obj.ask_bid),
                    epoch_seconds(obj.trade_timestamp or obj.timestamp), str(obj.sequential_id))


def _key(ty: str, typ: str) -> str | None:
    if ty in ("orderbook", "trade"):
        return "s:" + ty
    if typ in ("orderbook", "trade"):
        return "d:" + typ
    return None


def parse(msg: Any) -> list[FullBookMsg | TradeMsg] | None:
    """Records of one JSON-decoded message; None for tickers, errors and the rest."""
    if not isinstance(msg, dict):
        return None
    key = _key(str(msg.get("ty", "")), str(msg.get("type", "")))
    if key is None:
        return None
    return [_record(msgspec.convert(msg, _types[key], strict=False))]


def head(raw: bytes | str) -> Head:
    """Classify one raw frame (text or binary); raises a decode error when it is not JSON."""
    h = _head_dec.decode(raw)
    if h.error is not None:
        return Head("error", h.error)
    kind = h.ty or h.type
    if kind in ("orderbook", "trade"):
        return Head(kind, None)
    if kind:
        return Head("other", None)
    return Head("status" if h.status else "", None)


def decode(raw: bytes | str) -> list[FullBookMsg | TradeMsg] | None:
    """Records of one raw (binary or text) frame (same result as ``parse(json.loads(raw))``)."""
    h = _head_dec.decode(raw)
    key = _key(h.ty, h.type)
    if key is None:
        return None
    return [_record(_decs[key].decode(raw))]


# -- books -------------------------------------------------------------------------------------


class Recency(enum.StrEnum):
    """What to do with one full-book message."""

    REPLACE = "replace"
    STALE = "stale"


def replace_verdict(last_ts: float | None, ts: float | None) -> Recency:
    """REPLACE unless the message is strictly older than the last applied one."""
    if last_ts is None or ts is None or ts >= last_ts:
        return Recency.REPLACE
    return Recency.STALE


def book_diff(held: Iterable[tuple[float, float]],
              new: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The level changes turning the side ``held`` into ``new`` (size 0 = delete)."""
    old = dict(held)
    want = dict(new)
    out = [(p, 0.0) for p in old if p not in want]
    out.extend((p, q) for p, q in want.items() if old.get(p) != q)
    return out


class FullBookHandler:
    """Full top-N books -> book events through the core ``BookSync``; trades -> ticks.

    There are no sequence numbers or checksums: the only integrity check is recency (a message
    strictly older than the one applied is counted in ``stale`` and dropped); a message equal
    to the book held is counted in ``unchanged``. Shared by a venue's live connector and its
    replay decoder (``venue`` names the books and events).
    """

    def __init__(
        self,
        venue: str,
        market: MarketState,
        emit: Callable[[MarketEvent], None] | None,
        *,
        symbols: SymbolMap | None = None,
        request_snapshot: Callable[[str], None] | None = None,
    ) -> None:
        self.venue = venue
        self.sync = BookSync(venue, market, NoSequenceRule(), emit=emit,
                             request_snapshot=request_snapshot)
        self.emit = emit
        self.symbols = symbols if symbols is not None else code_symbols()
        self.stale = 0
        self.unchanged = 0
        self._last_ts: dict[str, float] = {}

    def full_book(self, code: str, bids: list[tuple[float, float]],
                  asks: list[tuple[float, float]], ts: float, exchange_ts: float | None) -> bool:
        """Apply one full book of market ``code``; True when the book changed."""
        sym = self.symbols.to_unified(code)
        if replace_verdict(self._last_ts.get(sym), exchange_ts) is Recency.STALE:
            self.stale += 1
            return False
        if exchange_ts is not None:
            self._last_ts[sym] = exchange_ts
        sync = self.sync
        if not sync.is_live(sym):
            return sync.on_snapshot(sym, 0, bids, asks, ts, exchange_ts)
        book = sync.book(sym)
        db = book_diff(book.bids, bids)
        da = book_diff(book.asks, asks)
        if not db and not da:
            self.unchanged += 1
            return False
        return sync.on_delta(sym, 0, 0, db, da, ts, exchange_ts)

    def records(self, records: Iterable[FullBookMsg | TradeMsg], ts: float) -> None:
        """Handle decoded records: full books and trades."""
        for rec in records:
            if type(rec) is TradeMsg:
                if self.emit is not None:
                    self.emit(TradeTick(ts, self.venue, self.symbols.to_unified(rec.symbol),
                                        rec.price, rec.size, rec.side, rec.ts))
            else:
                assert isinstance(rec, FullBookMsg)
                self.full_book(rec.symbol, rec.bids, rec.asks, ts, rec.ts)

    def reset(self) -> None:
        """The connection was lost: drop every book (each waits for its next message)."""
        self._last_ts.clear()
        self.sync.drop_all()


class FullBookReplayDecoder(HandlerReplayDecoder):
    """Replays captured messages with the live rules (:class:`FullBookHandler`); books in
    :attr:`market`. The first orderbook message of a market is its snapshot event, each later
    one a delta event (what changed in the top N); ``ignored`` counts tickers and the rest.
    A subclass sets :attr:`venue` (and may set :attr:`symbols_factory`)."""

    venue: ClassVar[str] = "upbit"
    #: The symbol map used when none is given.
    symbols_factory: ClassVar[Callable[[], SymbolMap]] = staticmethod(code_symbols)

    parse = staticmethod(parse)

    def __init__(self, symbols: SymbolMap | None = None, venue: str | None = None) -> None:
        super().__init__()
        self.handler = FullBookHandler(
            venue or self.venue, self.market, self.emit,
            symbols=symbols if symbols is not None else type(self).symbols_factory())
        #: The event buffer under its earlier name (subclasses' extra handlers emit into it).
        self._events = self._out

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """A ``/v1/market/all`` body extends the symbol map (there are no REST snapshots)."""
        if "/market/all" in url and isinstance(body, list):
            for m in body:
                self.symbols.add(str(m["market"]), code_to_unified(str(m["market"])))
        return []


# -- live connector ----------------------------------------------------------------------------


class FullBookSettings(ComponentSettings):
    """Settings of a full-book connector; subclasses set the venue's URLs and limits."""

    rest_url: str = Field("", description="REST base URL")
    ws_url: str = Field("", description="public WebSocket URL")
    depth: int = Field(15, description="orderbook units per code (when the venue takes CODE.n)")
    format: str = Field("DEFAULT", description="message format: DEFAULT or SIMPLE")
    requests_per_second: int = Field(10, gt=0, description="quotation REST requests/s (per IP)")
    messages_per_second: float = Field(5.0, gt=0, description="WS data requests/s")
    ping_interval: float = Field(20.0, gt=0, description="'PING' text period (s)")
    idle_timeout: float | None = Field(60.0, description="reconnect after this long silent")
    stale_after: float | None = Field(30.0, description="mark a book stale after this long")
    max_lifetime: float = Field(23.5 * 3600, gt=0, description="rotate the connection")
    backoff_initial: float = Field(0.5, gt=0)
    backoff_max: float = Field(30.0, gt=0)


class FullBookConnector(ScaffoldConnector[FullBookSettings]):
    """Market data of a full top-N book venue: every ``orderbook`` message is the whole book
    (:class:`FullBookHandler`: first message = snapshot, later ones = the changes), trades from
    ``trade``. One request frame carries the whole subscription set; it is re-sent (with a new
    ticket) on reconnect and to resynchronise a book (the venue answers with fresh ``SNAPSHOT``
    books). Markets come from ``GET /v1/market/all`` (:meth:`parse_markets`, tick sizes from
    :meth:`fetch_ticks`).

    A subclass sets ``name``, ``Settings`` (a :class:`FullBookSettings`),
    :attr:`market_all_query`, :attr:`emulator_class`, :attr:`replay_class` and implements
    :meth:`parse_markets`.
    """

    #: ``/v1/market/all`` query (e.g. ``is_details=true``).
    market_all_query: ClassVar[str] = "is_details=true"
    #: The keep-alive text.
    ping_text: ClassVar[str] = "PING"
    #: Path of the public WebSocket endpoint, appended to the emulator's ``ws_url``.
    emulator_ws_path: ClassVar[str] = "/websocket/v1"

    def __init__(
        self,
        settings: Any,
        ctx: BotContext,
        on_event: Callable[[MarketEvent], None] | None = None,
        *,
        limiter: RateLimitPolicy | None = None,
    ) -> None:
        super().__init__(settings, ctx, on_event)
        s: FullBookSettings = settings
        self.limiter = limiter or CountLimiter(s.requests_per_second, 1.0)
        self.rest = RestClient(s.rest_url, self.limiter)
        self.handler = FullBookHandler(self.name, ctx.market, self._emit,
                                       request_snapshot=self._want_snapshot)
        self.sync = self.handler.sync
        self._markets_loaded = False
        self._known: set[str] = set()
        self._books: list[str] = []
        self._trades: list[str] = []
        self._request: str | None = None
        self._resend: asyncio.Task[None] | None = None
        self._closed = False
        self.errors = 0
        self.ws = WsSession(
            s.ws_url,
            self._on_frame,
            on_close=lambda _session: self.handler.reset(),
            heartbeat=Heartbeat(ping_interval=None, ping_timeout=None, app_ping=self.ping_text,
                                app_ping_interval=s.ping_interval, idle_timeout=s.idle_timeout),
            backoff=Backoff(initial=s.backoff_initial, maximum=s.backoff_max),
            max_lifetime=s.max_lifetime,
            pacer=SubscriptionPacer(s.messages_per_second, burst=int(s.messages_per_second)),
            name=self.name,
        )

    def _on_frame(self, frame: str | bytes, ts: float) -> None:
        h = head(frame)
        if h.kind in ("orderbook", "trade"):
            records = decode(frame)
            if records is not None:
                self.handler.records(records, ts)
        elif h.kind == "error":
            self.errors += 1
            log.warning("%s: error reply %r", self.name, h.error)
        elif h.kind == "":
            raise GarbageFrame(f"not an {self.name} message")

    # -- venue hooks -------------------------------------------------------------------------

    @abstractmethod
    def parse_markets(self, body: list[Any], ticks: dict[str, float]) -> list[MarketInfo]:
        """MarketInfo of a ``/v1/market/all`` body, with the tick sizes of :meth:`fetch_ticks`."""

    async def fetch_ticks(self, body: list[Any]) -> dict[str, float]:
        """``market code -> tick size`` for the markets of ``body`` (default: none published)."""
        return {}

    def book_code(self, code: str) -> str:
        """The ``orderbook`` code of a market: ``CODE.n`` sets the depth (``settings.depth``)."""
        s: FullBookSettings = self.settings
        return f"{code}.{s.depth}"

    # -- subscription --------------------------------------------------------------------------

    def _build_request(self) -> str:
        s: FullBookSettings = self.settings
        req: list[dict[str, Any]] = [{"ticket": f"arbot-{uuid.uuid4().hex[:16]}"}]
        if self._books:
            req.append({"type": "orderbook",
                        "codes": [self.book_code(self.venue_symbol(x)) for x in self._books]})
        if self._trades:
            req.append({"type": "trade", "codes": [self.venue_symbol(x) for x in self._trades]})
        req.append({"format": s.format})
        return msgspec.json.encode(req).decode()

    def _replace_request(self, request: str) -> None:
        if self._request is not None:
            self.ws.unsubscribe_saved(self._request)
        self._request = request

    async def _send_request(self) -> None:
        """Send the whole subscription set (each request replaces the previous one)."""
        self._replace_request(self._build_request())
        assert self._request is not None
        await self.ws.subscribe(self._request)

    def _want_snapshot(self, symbol: str) -> None:
        """Resynchronise: re-send the request; the venue answers with ``SNAPSHOT`` books."""
        if self._closed or not self.ws.connected:
            return
        if self._resend is None or self._resend.done():
            self._resend = asyncio.get_running_loop().create_task(self._send_request())

    # -- Connector API -----------------------------------------------------------------------

    async def load_markets(self) -> list[MarketInfo]:
        """Markets from ``GET /v1/market/all`` (:meth:`parse_markets`, :meth:`fetch_ticks`),
        registered in the market state and the symbol map."""
        body = await self.rest.get(f"/v1/market/all?{self.market_all_query}")
        infos = self.parse_markets(body, await self.fetch_ticks(body))
        return self.register_markets(infos, self.handler.symbols)

    def venue_symbol(self, symbol: str) -> str:
        """``BTC/KRW`` -> ``KRW-BTC`` (a listed market)."""
        return self.listed_venue_symbol(symbol, self.handler.symbols, "/v1/market/all")

    async def connect(self) -> None:
        """Load markets if needed and open the connection."""
        self._closed = False
        if not self._markets_loaded:
            await self.load_markets()
        await self.ws.start(wait=True, timeout=self.ws.open_timeout + 5.0)
        self.start_stale_watch(self.settings.stale_after)

    async def subscribe_orderbook(self, symbols: list[str], depth: int = 10) -> None:
        """``orderbook`` of ``symbols`` (the books hold ``settings.depth`` units)."""
        for sym in symbols:
            self.venue_symbol(sym)
            if sym not in self._books:
                self._books.append(sym)
                self.sync.track(sym)
        await self._send_request()

    async def subscribe_trades(self, symbols: list[str]) -> None:
        """``trade`` of ``symbols``."""
        for sym in symbols:
            self.venue_symbol(sym)
            if sym not in self._trades:
                self._trades.append(sym)
        await self._send_request()

    async def close(self) -> None:
        """Close the connection and the HTTP session."""
        self._closed = True
        await self.ws.close()
        await self.stop_stale_watch()
        await stop_tasks([self._resend])
        await self.rest.close()

    @classmethod
    def emulated_settings(cls, emulator: EmulatorServer) -> dict[str, Any]:
        """Settings pointing at a started emulator."""
        return {"rest_url": emulator.http_url, "ws_url": emulator.ws_url + cls.emulator_ws_path}

    def stats(self) -> dict[str, int]:
        """Counters: connection, books (snapshots, deltas, resyncs, stale), REST."""
        out = self.base_stats()
        out["stale_books"] = self.handler.stale
        out["control_errors"] = self.errors
        return out
