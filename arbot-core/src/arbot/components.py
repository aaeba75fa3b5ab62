"""Base classes of the components a plugin contributes.

A plugin returns component *classes* from the registration hooks in :mod:`arbot.hookspecs`;
the bot instantiates the ones its configuration names, passing each its validated
``Settings`` and the shared :class:`BotContext`. Every class has a unique ``name`` within its
kind: that name is what configuration files refer to.

Components are plain objects that the engine calls directly on the hot path (no hook call per
event). Their methods must not block: I/O belongs in sinks (which run off the hot path) or in
async connectors.
"""

from __future__ import annotations

import math
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic

import attrs
from typing_extensions import TypeVar

from arbot.book import OrderBook
from arbot.config import BotConfig, ComponentSettings
from arbot.errors import ArbotError
from arbot.events import (
    BookUpdate,
    ExecutionReport,
    FxRate,
    Opportunity,
    RiskDecision,
    Side,
    TradeTick,
)
from arbot.market import MarketInfo, MarketState

if TYPE_CHECKING:
    from arbot.clock import Clock
    from arbot.plugins import PluginHost
    from arbot.portfolio import Portfolio
    from arbot.stats import Counters
    from arbot.testing.emulator import EmulatorServer
    from arbot.trading.gateway import TradingGateway
    from arbot.trading.signing import ApiCredentials

__all__ = [
    "BookObserver",
    "BotContext",
    "Component",
    "Connector",
    "Detector",
    "Executor",
    "MarketEvent",
    "ReplayDecoder",
    "RiskRule",
    "Sink",
    "Source",
]

MarketEvent = BookUpdate | TradeTick | FxRate

#: The settings model of a component (``Detector[MySettings]`` types ``self.settings``).
S = TypeVar("S", bound=ComponentSettings, default=ComponentSettings, covariant=True)


@attrs.define(slots=True)
class BotContext:
    """What every component may read: configuration, market state, portfolio, clock, counters."""

    config: BotConfig
    market: MarketState
    portfolio: Portfolio
    clock: Clock
    counters: Counters
    mode: str
    run_id: str = "run"
    host: PluginHost | None = None
    #: stops all trading now (set by the live executor: engages its kill switch); a risk rule
    #: such as the circuit breaker calls it with the reason. None: nothing to stop.
    halt_trading: Callable[[str], None] | None = None
    _next_id: int = 0

    def new_id(self) -> str:
        """A new opportunity id, unique within the run and the same for the same run twice."""
        self._next_id += 1
        return f"{self.run_id}-{self._next_id:09d}"

    def taker_fee(self, venue: str, symbol: str) -> float:
        """Taker fee fraction: configured override, else the market's metadata, else the default."""
        fees = self.config.exchanges.fees
        if venue in fees:
            return fees[venue].taker_pct / 100.0
        info = self.market.market(venue, symbol)
        if info is not None:
            return info.taker_fee
        return self.config.exchanges.default_fee.taker_pct / 100.0

    def usd_price(self, asset: str) -> float:
        """USD price of one unit of ``asset`` from the current books (NaN when unknown)."""
        return self.portfolio.usd_price(asset)

    @property
    def output_path(self) -> Path:
        """Folder for files the bot writes."""
        return self.config.output_path


class Component(Generic[S]):
    """Common base: a unique ``name`` and a pydantic ``Settings`` model.

    Parametrise a subclass with its settings model so ``self.settings`` is typed:
    ``class MyDetector(Detector[MySettings])`` with ``Settings = MySettings``.
    """

    #: Name configuration files use; unique within the component's kind.
    name: ClassVar[str]
    #: Kind of component ("detector", "risk_rule", ...); set by each base class.
    kind: ClassVar[str]
    #: Settings model validated from the component's configuration section.
    Settings: ClassVar[type[ComponentSettings]] = ComponentSettings
    #: One-line description shown by ``arbot plugins``.
    description: ClassVar[str] = ""
    #: A top-level configuration table this component validates and consumes besides its own
    #: ``[<kind>.<name>]`` table, e.g. ``"alerts.telegram"`` or ``"database.postgres"``. When that
    #: table says ``enabled = true`` the component runs even if no list names it.
    config_section: ClassVar[str | None] = None

    def __init__(self, settings: S, ctx: BotContext) -> None:
        self.settings: S = settings
        self.ctx = ctx


class BookObserver(ABC):
    """A role any component may take: told about every book update before the detectors.

    The engine calls :meth:`on_book_update` right after it applied an update to ``book``, so an
    observer may adjust the book (the simulated executor re-applies its own recent market
    impact) or keep state. It runs on the hot path: return fast when the book is not of interest,
    and set :attr:`observing` to False while there is nothing to do (the engine then skips the
    call altogether).
    """

    #: False while the observer has nothing to do: the engine does not call it
    observing: bool = True

    @abstractmethod
    def on_book_update(self, venue: str, symbol: str, book: OrderBook, now: float) -> None:
        """React to the book of ``symbol`` on ``venue`` having just changed."""


class Detector(Component[S]):
    """Turns market state into opportunities.

    The engine calls :meth:`on_book` after applying a change to the book of ``symbol`` on
    ``venue``; the detector re-evaluates only what that book touches. The same object runs in
    backtest, paper and live mode.
    """

    kind: ClassVar[str] = "detector"

    def symbols(self) -> Iterable[str] | None:
        """Symbols whose book changes this detector wants (None: every symbol)."""
        return None

    @abstractmethod
    def on_book(self, venue: str, symbol: str, now: float) -> Sequence[Opportunity]:
        """Re-evaluate after the book of ``symbol`` on ``venue`` changed; return opportunities."""

    def on_trade(self, trade: TradeTick) -> Sequence[Opportunity]:
        """Called for each public trade (most detectors ignore trades)."""
        return ()

    def on_report(self, report: ExecutionReport) -> None:
        """Called after an opportunity this detector found was executed."""


class RiskRule(Component[S]):
    """Approves, resizes or rejects an opportunity, always with a reason.

    Rules run in the configured order on every opportunity; a rejection stops the chain, a
    resize shrinks the opportunity the next rules see. Rules learn outcomes through
    :meth:`on_report` (losses, exposure) and must be monotone: a stricter limit never approves
    more than a looser one.
    """

    kind: ClassVar[str] = "risk_rule"

    @abstractmethod
    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        """Decide about ``opportunity`` at time ``now``."""

    def on_report(self, report: ExecutionReport) -> None:
        """Called with every execution report (to track losses, exposure, cooldowns)."""


class Executor(Component[S]):
    """Runs approved opportunities: simulated fills (backtest, paper) or real orders (live).

    :meth:`submit` must return at once; results come back from :meth:`due`, which the engine
    calls after every event (backtest) or on a timer (paper, live). This is how latency is
    modelled: a backtest executor fills at the market as it is ``latency`` after submission.
    """

    kind: ClassVar[str] = "executor"
    #: Mode recorded in the journal ("BACKTEST", "PAPER", "LIVE").
    mode: ClassVar[str] = "BACKTEST"
    #: True when :meth:`next_due` changes only inside :meth:`submit` and :meth:`due` (a
    #: virtual-time executor): the engine then reads it after each of those calls instead of on
    #: every market event, so an idle execution layer costs nothing per tick.
    due_changes_only_on_calls: ClassVar[bool] = False

    @abstractmethod
    def submit(self, opportunity: Opportunity, now: float) -> None:
        """Accept an approved opportunity for execution."""

    @abstractmethod
    def due(self, now: float) -> list[ExecutionReport]:
        """Reports of executions that completed by ``now``."""

    def pending(self) -> int:
        """Opportunities submitted and not yet reported."""
        return 0

    def next_due(self) -> float:
        """Time of the next pending completion (inf when nothing is pending)."""
        return math.inf

    def drain_events(self) -> Sequence[object]:
        """Execution-layer events since the last call (order and episode transitions,
        residuals, alerts); the engine hands them to the result sinks."""
        return ()

    async def settle(self) -> None:
        """Wait for executions in flight that complete on their own (live episodes running as
        tasks); the engine awaits this when a live stream ends, before its final drain, so every
        submitted opportunity is still reported to the sinks."""

    async def aclose(self) -> None:
        """Release resources (open orders, sessions)."""


class Sink(Component[S]):
    """Consumes events off the hot path: stores, metrics, alerts.

    The engine calls :meth:`emit` on the hot path; it must only enqueue. Subclass
    :class:`arbot.sinks.base.BatchingSink` for buffered, retried, spilled batch writes.
    """

    kind: ClassVar[str] = "sink"
    #: True if the sink wants every book update and trade (recorders).
    wants_market_data: ClassVar[bool] = False
    #: True if the sink wants results: signals, execution reports, balances, daily rows.
    wants_results: ClassVar[bool] = True

    @abstractmethod
    def emit(self, event: object) -> None:
        """Enqueue one event (a market event, signal record, execution report, balance
        snapshot, daily row, or an execution-layer event); never blocks."""

    def start(self) -> None:
        """Open the store; called once before the first event."""

    def close(self) -> None:
        """Flush everything and close; called once at shutdown."""

    def stats(self) -> dict[str, int | str]:
        """Counters (written, retried, spilled, replayed, lost...) and the last error."""
        return {}

    def lost(self) -> int:
        """Events this sink could not store nor spill (data lost); 0 when none."""
        return 0


class Source(Component[S]):
    """Where market events come from: a simulator, a recording, or live connectors.

    A source yields :class:`~arbot.events.BookUpdate` and :class:`~arbot.events.TradeTick`
    events in time order. Backtests iterate :meth:`events`; paper and live runs iterate
    :meth:`aevents`, which paces or streams in real time.
    """

    kind: ClassVar[str] = "source"

    def __init__(self, settings: S, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        #: Problems that did not stop the source (an empty input...); the summary lists them.
        self.warnings: list[str] = []

    def venues(self) -> list[str]:
        """Venues this source produces data for."""
        return list(self.ctx.config.exchanges.enabled)

    def markets(self) -> list[MarketInfo]:
        """Market metadata the source knows (fees, ticks); registered before the first event."""
        return []

    @abstractmethod
    def events(self) -> Iterator[MarketEvent]:
        """Events in time order, as fast as they can be produced (backtest)."""

    async def aevents(self) -> AsyncIterator[MarketEvent]:
        """Events paced in real time (paper/live); by default, replays :meth:`events` as is."""
        for ev in self.events():
            yield ev

    def buffered(self) -> int:
        """Events :meth:`aevents` holds ready, to be taken without waiting (the bot then skips
        racing its stop signal for each); 0 by default."""
        return 0

    def size_hint(self) -> int | None:
        """Number of events if known (for progress bars)."""
        return None

    def stats(self) -> Mapping[str, int | Mapping[str, int]]:
        """Counters of the source (a replay: lines, events, gaps...; a live source: each
        connector's counters by venue)."""
        return {}




class ReplayDecoder(ABC):
    """Turns one venue's recorded messages back into events (for the NDJSON capture replay).

    Register a decoder class through ``arbot_register_decoders`` with its ``venue`` set, or
    return an instance from :meth:`Connector.replay_decoder`.

    ``feed`` takes a message as the venue sent it (already JSON-decoded), with the local
    receive time; ``snapshot`` takes a REST depth snapshot body. Both return the events the
    messages produce, applying the venue's own book synchronisation rules.
    """

    #: The venue whose recordings this decoder reads (the name ``[source.replay] venue`` uses).
    venue: ClassVar[str] = ""

    @abstractmethod
    def feed(self, msg: Any, ts: float) -> list[MarketEvent]:
        """Events produced by one WebSocket message."""

    def snapshot(self, url: str, body: Any, ts: float) -> list[MarketEvent]:
        """Events produced by one REST snapshot (default: none)."""
        return []

    def stats(self) -> dict[str, int]:
        """Book-integrity counters of the replay (gaps, resyncs, checksum failures...)."""
        return {}


class Connector(Component[S]):
    """One exchange: market data, metadata and (optionally) trading.

    A connector pushes :class:`~arbot.events.BookUpdate` / :class:`~arbot.events.TradeTick`
    events to the callback it was given, converts venue symbols to unified ``BASE/QUOTE``, and
    loads market metadata (tick, step, minimum notional, fees) from the venue's REST API.
    Trading methods raise :class:`~arbot.errors.ArbotError` unless the connector implements them.
    """

    kind: ClassVar[str] = "connector"

    def __init__(
        self,
        settings: S,
        ctx: BotContext,
        on_event: Callable[[MarketEvent], None] | None = None,
    ) -> None:
        super().__init__(settings, ctx)
        self.on_event = on_event

    @abstractmethod
    async def connect(self) -> None:
        """Open the connection(s)."""

    @abstractmethod
    async def subscribe_orderbook(self, symbols: list[str], depth: int = 10) -> None:
        """Subscribe to L2 books of unified ``symbols``."""

    @abstractmethod
    async def subscribe_trades(self, symbols: list[str]) -> None:
        """Subscribe to public trades of unified ``symbols``."""

    @abstractmethod
    async def load_markets(self) -> list[MarketInfo]:
        """Market metadata from the venue's REST API."""

    @abstractmethod
    async def close(self) -> None:
        """Close every connection."""

    def stats(self) -> dict[str, int]:
        """Counters: reconnects, resyncs, gaps, checksum failures, garbage frames..."""
        return {}

    @classmethod
    def emulator(cls, symbols: Sequence[str], seed: int = 0) -> EmulatorServer:
        """A local emulator of this venue (not started) quoting ``symbols``, for offline runs."""
        raise ArbotError(f"connector {cls.name!r} ships no venue emulator")

    @classmethod
    def emulated_settings(cls, emulator: EmulatorServer) -> dict[str, Any]:
        """Settings (as a dict) that point this connector at a started ``emulator``."""
        raise ArbotError(f"connector {cls.name!r} ships no venue emulator")

    @classmethod
    def replay_decoder(cls) -> ReplayDecoder:
        """A decoder for this venue's recorded messages."""
        raise ArbotError(f"connector {cls.name!r} cannot replay recorded messages")

    @classmethod
    def trading_gateway(cls, settings: ComponentSettings, credentials: ApiCredentials) -> TradingGateway:
        """This venue's trading gateway (not started) for the connector's validated ``settings``
        (the same URLs, so an emulated connector trades on its emulator) and ``credentials``.

        A connector with a trading part overrides this; live execution calls it once per venue.
        """
        raise ArbotError(f"connector {cls.name!r} has no trading gateway: it cannot trade live")

    @classmethod
    def emulated_account(cls, emulator: EmulatorServer, balances: Mapping[str, float]) -> ApiCredentials:
        """Credentials of a new account funded with ``balances`` on ``emulator``'s private API
        (with a random passphrase where the venue's keys have one)."""
        from arbot.trading.signing import ApiCredentials

        private = emulator.private
        if private is None:
            raise ArbotError(f"connector {cls.name!r}: its emulator has no private (trading) API")
        passphrase = "pp" + secrets.token_hex(6) if emulator.passphrase_required else None
        funds = {a: repr(q) for a, q in balances.items()}
        acct = private.exchange.create_account(funds, passphrase=passphrase)
        return ApiCredentials(acct.api_key, secret=acct.secret, passphrase=acct.passphrase)

    async def place_order(
        self, symbol: str, side: Side, order_type: str, quantity: float, price: float | None = None
    ) -> dict[str, Any]:
        """Place an order; returns the venue's order record."""
        raise ArbotError(f"connector {self.name!r} does not support trading")

    async def cancel_order(self, symbol: str, order_id: str) -> bool:
        """Cancel an order."""
        raise ArbotError(f"connector {self.name!r} does not support trading")

    async def get_balances(self) -> dict[str, float]:
        """Free balance per asset."""
        raise ArbotError(f"connector {self.name!r} does not support trading")

    async def get_withdrawal_fee(self, asset: str, network: str) -> float:
        """Withdrawal fee of ``asset`` on ``network``."""
        raise ArbotError(f"connector {self.name!r} does not support withdrawals")
