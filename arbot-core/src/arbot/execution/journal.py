"""Write-ahead execution journal: every order intent before it leaves, every transition after.

The order manager writes an order's intent (PENDING_NEW) *before* the request is sent, and
every state change, fill and episode transition after it. A crash at any instant therefore
leaves a journal that says what may be live at each venue; :func:`replay_positions` rebuilds
the positions from the journaled fills alone.

Storage sits behind the small :class:`JournalStore` protocol. :class:`SqliteJournal` is the
embedded default (WAL, ``synchronous=FULL``: a committed write survives a power cut), and
:class:`MemoryJournal` serves backtests, where nothing outlives the process (it can drop the
records of settled episodes so a long backtest does not grow). A PostgreSQL store implements
the same protocol.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import attrs

from arbot.errors import ArbotError
from arbot.events import Side
from arbot.market import split_symbol
from arbot.trading.types import Fill, OrderRequest, OrderStatus, OrderType, TimeInForce

__all__ = [
    "EpisodeRecord",
    "JournalError",
    "JournalStore",
    "MemoryJournal",
    "OrderRecord",
    "SqliteJournal",
    "Transition",
    "replay_positions",
]


class JournalError(ArbotError):
    """The journal cannot be opened or written (the run must not trade without it)."""


@attrs.frozen(slots=True)
class OrderRecord:
    """One order as the journal keeps it: the intent and what is known of it now."""

    client_id: str
    episode_id: str
    purpose: str
    venue: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: float
    price: float | None
    status: OrderStatus
    ts: float
    order_id: str = ""
    filled: float = 0.0
    cost: float = 0.0
    fee: float = 0.0

    @property
    def request(self) -> OrderRequest:
        """The order request this record's intent describes (same client id)."""
        return OrderRequest(
            self.venue,
            self.symbol,
            self.side,
            self.order_type,
            self.quantity,
            self.client_id,
            self.price,
            self.time_in_force,
        )


@attrs.frozen(slots=True)
class EpisodeRecord:
    """One arbitrage episode: its state in the leg-risk machine and why it is there."""

    episode_id: str
    opportunity_id: str
    strategy: str
    state: str
    reason: str
    ts: float
    expected_pnl_usd: float = 0.0

    @property
    def is_open(self) -> bool:
        """True until the episode is settled (DONE, MISSED, UNWOUND, HEDGED, HELD, HALTED, BLOCKED)."""
        return self.state not in _CLOSED_EPISODE


_CLOSED_EPISODE = frozenset({"DONE", "MISSED", "UNWOUND", "HEDGED", "HELD", "HALTED", "BLOCKED"})


@attrs.frozen(slots=True)
class Transition:
    """One line of the append-only transition log."""

    ts: float
    entity: str
    key: str
    state: str
    reason: str


class JournalStore(Protocol):
    """What the execution layer needs from a durable store."""

    def put_order(self, order: OrderRecord) -> None:
        """Insert or replace one order record (the intent first, then every transition)."""
        ...

    def put_fill(self, fill: Fill, episode_id: str) -> bool:
        """Record one fill; False when its (venue, trade id) is already journaled."""
        ...

    def put_episode(self, episode: EpisodeRecord) -> None:
        """Insert or replace one episode record."""
        ...

    def log(self, transition: Transition) -> None:
        """Append one transition with its reason."""
        ...

    def set_flag(self, name: str, value: str | None) -> None:
        """Set (or clear with None) a persistent flag: kill switch, blocked symbols."""
        ...

    def flags(self) -> dict[str, str]:
        """Every flag that is set."""
        ...

    def orders(self, open_only: bool = False) -> list[OrderRecord]:
        """Every order (or only those not in a terminal state)."""
        ...

    def episodes(self, open_only: bool = False) -> list[EpisodeRecord]:
        """Every episode (or only the open ones)."""
        ...

    def fills(self) -> list[Fill]:
        """Every journaled fill in the order it was written."""
        ...

    def transitions(self, key: str | None = None) -> list[Transition]:
        """The transition log (of one order or episode)."""
        ...

    def close(self) -> None:
        """Flush and close."""
        ...


def replay_positions(fills: Iterable[Fill]) -> dict[tuple[str, str], float]:
    """Balance change per (venue, asset) implied by ``fills``: base against quote, fee in its asset."""
    out: dict[tuple[str, str], float] = {}
    for f in fills:
        base, quote = split_symbol(f.symbol)
        sign = 1.0 if f.side is Side.BUY else -1.0
        kb, kq = (f.venue, base), (f.venue, quote)
        out[kb] = out.get(kb, 0.0) + sign * f.quantity
        out[kq] = out.get(kq, 0.0) - sign * f.quantity * f.price
        if f.fee:
            kf = (f.venue, f.fee_asset)
            out[kf] = out.get(kf, 0.0) - f.fee
    return out


class MemoryJournal:
    """An in-process journal (backtests): same protocol, nothing durable.

    With ``retain_settled=False`` the orders, fills and log of an episode are dropped once the
    episode closes, so memory stays flat however long the backtest runs.
    """

    def __init__(self, retain_settled: bool = True) -> None:
        self.retain_settled = retain_settled
        self._orders: dict[str, OrderRecord] = {}
        self._fills: dict[tuple[str, str], tuple[Fill, str]] = {}
        self._episodes: dict[str, EpisodeRecord] = {}
        self._log: list[Transition] = []
        self._flags: dict[str, str] = {}

    def put_order(self, order: OrderRecord) -> None:
        """Insert or replace."""
        self._orders[order.client_id] = order

    def put_fill(self, fill: Fill, episode_id: str) -> bool:
        """Insert unless the trade id is known."""
        key = (fill.venue, fill.trade_id)
        if key in self._fills:
            return False
        self._fills[key] = (fill, episode_id)
        return True

    def put_episode(self, episode: EpisodeRecord) -> None:
        """Insert or replace; a closed episode's records go when ``retain_settled`` is False."""
        self._episodes[episode.episode_id] = episode
        if not self.retain_settled and not episode.is_open:
            eid = episode.episode_id
            del self._episodes[eid]
            self._orders = {k: o for k, o in self._orders.items() if o.episode_id != eid}
            self._fills = {k: v for k, v in self._fills.items() if v[1] != eid}
            self._log = [t for t in self._log if t.key != eid and t.key not in self._orders]

    def log(self, transition: Transition) -> None:
        """Append (kept only with ``retain_settled``)."""
        if self.retain_settled:
            self._log.append(transition)

    def set_flag(self, name: str, value: str | None) -> None:
        """Set or clear."""
        if value is None:
            self._flags.pop(name, None)
        else:
            self._flags[name] = value

    def flags(self) -> dict[str, str]:
        """A copy of the flags."""
        return dict(self._flags)

    def orders(self, open_only: bool = False) -> list[OrderRecord]:
        """Orders in insertion order."""
        return [o for o in self._orders.values() if not (open_only and o.status.is_terminal)]

    def episodes(self, open_only: bool = False) -> list[EpisodeRecord]:
        """Episodes in insertion order."""
        return [e for e in self._episodes.values() if not (open_only and not e.is_open)]

    def fills(self) -> list[Fill]:
        """Fills in insertion order."""
        return [f for f, _ in self._fills.values()]

    def transitions(self, key: str | None = None) -> list[Transition]:
        """The log."""
        return [t for t in self._log if key is None or t.key == key]

    def close(self) -> None:
        """Nothing to flush."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS exec_orders (
    client_id TEXT PRIMARY KEY, episode_id TEXT NOT NULL, purpose TEXT NOT NULL,
    venue TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL, order_type TEXT NOT NULL,
    time_in_force TEXT NOT NULL, quantity REAL NOT NULL, price REAL, status TEXT NOT NULL,
    ts REAL NOT NULL, order_id TEXT NOT NULL, filled REAL NOT NULL, cost REAL NOT NULL, fee REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS exec_orders_status ON exec_orders(status);
CREATE TABLE IF NOT EXISTS exec_fills (
    n INTEGER PRIMARY KEY AUTOINCREMENT, venue TEXT NOT NULL, trade_id TEXT NOT NULL,
    symbol TEXT NOT NULL, order_id TEXT NOT NULL, client_id TEXT NOT NULL, episode_id TEXT NOT NULL,
    side TEXT NOT NULL, price REAL NOT NULL, quantity REAL NOT NULL, fee REAL NOT NULL,
    fee_asset TEXT NOT NULL, ts REAL NOT NULL, is_maker INTEGER NOT NULL, UNIQUE (venue, trade_id)
);
CREATE TABLE IF NOT EXISTS exec_episodes (
    episode_id TEXT PRIMARY KEY, opportunity_id TEXT NOT NULL, strategy TEXT NOT NULL,
    state TEXT NOT NULL, reason TEXT NOT NULL, ts REAL NOT NULL, expected_pnl_usd REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS exec_transitions (
    n INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, entity TEXT NOT NULL, key TEXT NOT NULL,
    state TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exec_transitions_key ON exec_transitions(key);
CREATE TABLE IF NOT EXISTS exec_flags (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class SqliteJournal:
    """The embedded journal: one SQLite file in WAL mode with ``synchronous=FULL``.

    Every call commits before it returns, so when :meth:`put_order` returns for an intent the
    intent is on disk before the order request is sent.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the execution journal {self.path}: {exc}") from exc

    def _write(self, sql: str, args: tuple[object, ...]) -> int:
        try:
            return self._db.execute(sql, args).rowcount
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write the execution journal {self.path}: {exc}") from exc

    def put_order(self, order: OrderRecord) -> None:
        """Insert or replace, committed before returning."""
        o = order
        self._write(
            "INSERT OR REPLACE INTO exec_orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                o.client_id,
                o.episode_id,
                o.purpose,
                o.venue,
                o.symbol,
                o.side.value,
                o.order_type.value,
                o.time_in_force.value,
                o.quantity,
                o.price,
                o.status.value,
                o.ts,
                o.order_id,
                o.filled,
                o.cost,
                o.fee,
            ),
        )

    def put_fill(self, fill: Fill, episode_id: str) -> bool:
        """Insert unless (venue, trade id) is known; committed before returning."""
        f = fill
        n = self._write(
            "INSERT OR IGNORE INTO exec_fills (venue, trade_id, symbol, order_id, client_id, episode_id,"
            " side, price, quantity, fee, fee_asset, ts, is_maker) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                f.venue,
                f.trade_id,
                f.symbol,
                f.order_id,
                f.client_id,
                episode_id,
                f.side.value,
                f.price,
                f.quantity,
                f.fee,
                f.fee_asset,
                f.ts,
                int(f.is_maker),
            ),
        )
        return n == 1

    def put_episode(self, episode: EpisodeRecord) -> None:
        """Insert or replace."""
        e = episode
        self._write(
            "INSERT OR REPLACE INTO exec_episodes VALUES (?,?,?,?,?,?,?)",
            (e.episode_id, e.opportunity_id, e.strategy, e.state, e.reason, e.ts, e.expected_pnl_usd),
        )

    def log(self, transition: Transition) -> None:
        """Append."""
        t = transition
        self._write(
            "INSERT INTO exec_transitions (ts, entity, key, state, reason) VALUES (?,?,?,?,?)",
            (t.ts, t.entity, t.key, t.state, t.reason),
        )

    def set_flag(self, name: str, value: str | None) -> None:
        """Set or clear."""
        if value is None:
            self._write("DELETE FROM exec_flags WHERE name = ?", (name,))
        else:
            self._write("INSERT OR REPLACE INTO exec_flags VALUES (?, ?)", (name, value))

    def flags(self) -> dict[str, str]:
        """Every flag."""
        return dict(self._db.execute("SELECT name, value FROM exec_flags").fetchall())

    def orders(self, open_only: bool = False) -> list[OrderRecord]:
        """Orders in insertion order."""
        rows = self._db.execute("SELECT * FROM exec_orders ORDER BY rowid").fetchall()
        out = [
            OrderRecord(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                Side(r[5]),
                OrderType(r[6]),
                TimeInForce(r[7]),
                r[8],
                r[9],
                OrderStatus(r[10]),
                r[11],
                r[12],
                r[13],
                r[14],
                r[15],
            )
            for r in rows
        ]
        return [o for o in out if not (open_only and o.status.is_terminal)]

    def episodes(self, open_only: bool = False) -> list[EpisodeRecord]:
        """Episodes in insertion order."""
        rows = self._db.execute("SELECT * FROM exec_episodes ORDER BY rowid").fetchall()
        out = [EpisodeRecord(*r) for r in rows]
        return [e for e in out if not (open_only and not e.is_open)]

    def fills(self) -> list[Fill]:
        """Fills in the order written."""
        rows = self._db.execute(
            "SELECT venue, symbol, order_id, client_id, trade_id, side, price, quantity, fee, fee_asset, ts,"
            " is_maker FROM exec_fills ORDER BY n"
        ).fetchall()
        return [
            Fill(r[0], r[1], r[2], r[3], r[4], Side(r[5]), r[6], r[7], r[8], r[9], r[10], bool(r[11]))
            for r in rows
        ]

    def transitions(self, key: str | None = None) -> list[Transition]:
        """The log, in order."""
        sql = "SELECT ts, entity, key, state, reason FROM exec_transitions"
        rows = (
            self._db.execute(sql + " ORDER BY n").fetchall()
            if key is None
            else self._db.execute(sql + " WHERE key = ? ORDER BY n", (key,)).fetchall()
        )
        return [Transition(*r) for r in rows]

    def close(self) -> None:
        """Close the connection (every write is already committed)."""
        self._db.close()
