"""The capture replay decoder of every native connector: the venue's wire protocol
(:meth:`~arbot.connectors.protocol.WireProtocol.parse`) and its book bootstrap over recorded,
JSON-decoded messages, so a replay applies exactly the live rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from arbot.book import OrderBook
from arbot.components import MarketEvent, ReplayDecoder
from arbot.connectors.booksync import BookSync
from arbot.connectors.bootstrap import Bootstrap
from arbot.connectors.records import BookRecord, Record
from arbot.connectors.symbols import SymbolMap
from arbot.market import MarketState

__all__ = ["RecordReplayDecoder"]

#: ``make(market, emit)``: the venue's bootstrap on the decoder's market state.
BootstrapFactory = Callable[[MarketState, Callable[[MarketEvent], None]], Bootstrap]
#: ``read(url, body)``: what a recorded REST reply is -- a book snapshot, market ids to add to
#: the symbol map, or None (not used).
RestReader = Callable[[str, object], "BookRecord | SymbolMap | None"]


class RecordReplayDecoder(ReplayDecoder):
    """Turns a venue's recorded messages into events with its live bootstrap.

    ``parse`` is the venue protocol's ``parse`` (records of one JSON-decoded message, None for
    anything else, counted in ``ignored``); ``make_bootstrap(market, emit)`` builds the
    bootstrap; ``read_rest(url, body)`` reads recorded REST replies (snapshots are applied,
    market metadata extends the symbol map).
    """

    def __init__(self, parse: Callable[[object], list[Record] | None],
                 make_bootstrap: BootstrapFactory, read_rest: RestReader | None = None) -> None:
        self.market = MarketState()
        self._out: list[MarketEvent] = []
        self.parse = parse
        self.read_rest = read_rest
        self.bootstrap = make_bootstrap(self.market, self._out.append)
        self.messages = 0
        self.ignored = 0

    @property
    def symbols(self) -> SymbolMap:
        """The venue id <-> unified symbol map."""
        return self.bootstrap.symbols

    @property
    def sync(self) -> BookSync:
        """The book synchroniser (``stats``: snapshots, deltas, gaps, resyncs)."""
        return self.bootstrap.sync

    @property
    def books(self) -> dict[str, OrderBook]:
        """Books by unified symbol."""
        return {s: self.sync.book(s) for s in self.sync.symbols()}

    @property
    def counters(self) -> dict[str, int]:
        """What happened so far: ``messages``, ``ignored``, the bootstrap's counters and the
        book synchroniser's (``checksum_failures``, ``gaps``, ``stale``, ``resyncs``)."""
        st = self.sync.stats
        return {"messages": self.messages, "ignored": self.ignored, **self.bootstrap.counters(),
                "checksum_failures": st.checksum_failures, "gaps": st.gaps,
                "stale": st.stale_deltas, "resyncs": st.resyncs}

    def is_synced(self, symbol: str) -> bool:
        """True when the book of unified ``symbol`` is synchronised."""
        return self.sync.is_live(symbol)

    def drain(self) -> list[MarketEvent]:
        """The events produced since the last call."""
        out = self._out
        if not out:
            return []
        events = out[:]
        out.clear()
        return events

    def apply(self, records: Iterable[Record], ts: float) -> list[MarketEvent]:
        """Events of decoded records (e.g. a REST snapshot read by :meth:`snapshot`)."""
        self.bootstrap.records(records, ts)
        return self.drain()

    def snapshot(self, url: str, body: object, ts: float) -> list[MarketEvent]:
        """A recorded REST reply, read by ``read_rest``: a book snapshot is applied, market
        ids extend the symbol map; anything else is ignored."""
        read = self.read_rest
        got = read(url, body) if read is not None else None
        if got is None:
            return []
        if type(got) is BookRecord:
            return self.apply([got], ts)
        assert isinstance(got, SymbolMap)
        self.symbols.update(got)
        return []

    def feed(self, msg: object, ts: float) -> list[MarketEvent]:
        """Events of one JSON-decoded push."""
        self.messages += 1
        records = self.parse(msg)
        if records is None:
            self.ignored += 1
            return []
        return self.apply(records, ts)
