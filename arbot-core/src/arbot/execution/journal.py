"""Write-ahead execution journal: every order intent before it leaves, every transition after.

The order manager writes an order's intent (PENDING_NEW) *before* the request is sent, and
every state change, fill and episode transition after it. A crash at any instant therefore
leaves a journal that says what may be live at each venue; :func:`replay_positions` rebuilds
the positions from the journaled fills alone.

Storage sits behind the small :class:`JournalStore` protocol. :class:`SqliteJournal` is the
embedded default and :class:`MemoryJournal` serves backtests, where nothing outlives the process
(it can drop the records of settled episodes so a long backtest does not grow). A PostgreSQL
store implements the same protocol.

Two levels of durability, and who pays for which:

* every write is committed before its call returns, so it survives a crash of the bot process
  at any instant (SIGKILL included);
* :meth:`JournalStore.sync` puts every write made so far on stable storage (an ``fsync``), so
  it also survives a power cut or a kernel crash. The order manager calls it after writing an
  intent and *before* the request leaves, so what may be live at a venue is always on disk.
  One flush covers every write before it (group commit): the intents of an episode's legs, and
  the transitions written since the last intent, share it. A transition written after the last
  flush can be lost only together with the machine, and then restart reconciliation settles
  it from the venue, as it settles an order whose acknowledgement never arrived.
"""

from __future__ import annotations

import os
import sqlite3
import threading
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
    "fill_from_row",
    "fill_row",
    "order_from_row",
    "order_row",
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

    def needs_flush(self) -> bool:
        """True when writes made since the last :meth:`sync` must reach stable storage before an
        order request leaves (a journal that does not flush before sending says False)."""
        ...

    def sync(self) -> None:
        """Block until every write made before the call is on stable storage (thread-safe:
        callers may run it on a worker thread while the event loop goes on writing)."""
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

    def needs_flush(self) -> bool:
        """Never: nothing here is meant to outlive the process."""
        return False

    def sync(self) -> None:
        """Nothing to flush."""

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


class _Checkpointer:
    """Copies the journal's WAL back into the database file on its own thread, so the event loop
    never waits for a checkpoint's two flushes (SQLite's automatic checkpoint would run them
    inside the commit that crosses the threshold)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors = 0
        self.runs = 0
        self._wanted = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        """Ask for a checkpoint (starts the thread the first time)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="arbot-journal-checkpoint", daemon=True)
            self._thread.start()
        self._wanted.set()

    def _run(self) -> None:
        db = sqlite3.connect(str(self.path), isolation_level=None)
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    self.runs += 1
                except sqlite3.Error:
                    self.errors += 1  # SQLite's own (larger) automatic checkpoint still applies
        finally:
            db.close()

    def close(self) -> None:
        """Stop the thread (after a checkpoint in progress)."""
        if self._thread is not None:
            self._stopping = True
            self._wanted.set()
            self._thread.join()
            self._thread = None



#: An order's columns as a journal stores them (enums as their values), in table order:
#: client_id, episode_id, purpose, venue, symbol, side, order_type, time_in_force, quantity,
#: price, status, ts, order_id, filled, cost, fee.
OrderRow = tuple[
    str, str, str, str, str, str, str, str, float, float | None, str, float, str, float, float, float
]
#: A fill as a journal writes it: venue, trade_id, symbol, order_id, client_id, episode_id, side,
#: price, quantity, fee, fee_asset, ts, is_maker.
FillRow = tuple[str, str, str, str, str, str, str, float, float, float, str, float, bool]
#: A fill as a journal reads it back: venue, symbol, order_id, client_id, trade_id, side, price,
#: quantity, fee, fee_asset, ts, is_maker (the field order of :class:`~arbot.trading.types.Fill`).
FillReadRow = tuple[str, str, str, str, str, str, float, float, float, str, float, bool]


def order_row(o: OrderRecord) -> OrderRow:
    """The columns a journal stores for ``o`` (shared by every SQL journal)."""
    return (
        o.client_id, o.episode_id, o.purpose, o.venue, o.symbol, o.side.value, o.order_type.value,
        o.time_in_force.value, o.quantity, o.price, o.status.value, o.ts, o.order_id, o.filled,
        o.cost, o.fee,
    )  # fmt: skip


def order_from_row(r: OrderRow) -> OrderRecord:
    """The order a row written from :func:`order_row` describes."""
    return OrderRecord(
        r[0], r[1], r[2], r[3], r[4], Side(r[5]), OrderType(r[6]), TimeInForce(r[7]), r[8], r[9],
        OrderStatus(r[10]), r[11], r[12], r[13], r[14], r[15],
    )  # fmt: skip


def fill_row(f: Fill, episode_id: str) -> FillRow:
    """The columns a journal writes for fill ``f`` of ``episode_id``."""
    return (
        f.venue, f.trade_id, f.symbol, f.order_id, f.client_id, episode_id, f.side.value, f.price,
        f.quantity, f.fee, f.fee_asset, f.ts, f.is_maker,
    )  # fmt: skip


def fill_from_row(r: FillReadRow) -> Fill:
    """The fill a row read in :data:`FillReadRow` order describes."""
    return Fill(r[0], r[1], r[2], r[3], r[4], Side(r[5]), r[6], r[7], r[8], r[9], r[10], bool(r[11]))


class SqliteJournal:
    """The embedded journal: one SQLite file in WAL mode.

    Every write commits before it returns (``synchronous=NORMAL``: in the WAL, safe from a crash
    of the process). :meth:`sync` flushes the WAL to stable storage and is thread-safe with
    group commit: a caller whose writes an ``fsync`` already in progress cannot cover waits for
    it and then runs one more, and every caller that arrived meanwhile shares that one. Flags
    (kill switch, blocked symbols) are synced as they are written. The WAL is checkpointed on a
    background thread every ``checkpoint_every`` writes.

    ``flush_before_send=False`` (``[executor.live] intent_durability = "process"``) makes
    :meth:`needs_flush` always False: an intent is then committed to the WAL (it survives the
    bot's crash, SIGKILL included) but reaches the disk with the next flush (a flag, the close,
    a checkpoint), so a power cut or kernel crash can lose the last intents. Restart
    reconciliation still finds such orders at the venue (tagged external, symbol blocked), but
    the journal no longer says what may be live.
    """

    #: SQLite's own automatic checkpoint (pages), a backstop behind the background thread
    AUTOCHECKPOINT_PAGES = 20_000

    def __init__(self, path: str | Path, checkpoint_every: int = 500, flush_before_send: bool = True) -> None:
        self.path = Path(path)
        self.flush_before_send = flush_before_send
        self._wal_path = Path(f"{self.path}-wal")
        self._checkpoint_every = max(1, checkpoint_every)
        self._written = 0
        self._synced = 0
        self._sync_lock = threading.Lock()
        self._wal_fd: int | None = None
        self._wal_ino = -1
        self.syncs = 0
        self._checkpointer = _Checkpointer(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA wal_autocheckpoint={self.AUTOCHECKPOINT_PAGES}")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the execution journal {self.path}: {exc}") from exc
        self._written = 1  # the schema
        self.sync()

    def _write(self, sql: str, args: tuple[object, ...]) -> int:
        try:
            n = self._db.execute(sql, args).rowcount
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write the execution journal {self.path}: {exc}") from exc
        self._written += 1  # after the commit: a sync that reads this count covers the write
        if self._written % self._checkpoint_every == 0:
            self._checkpointer.request()
        return n

    def needs_flush(self) -> bool:
        """True when a write was committed after the last completed :meth:`sync` began (and
        intents are flushed before sending)."""
        return self.flush_before_send and self._written > self._synced

    def _wal_descriptor(self) -> int | None:
        """A descriptor of the WAL file as it is now (reopened if SQLite made a new one); None
        when there is no WAL (everything is in the database file)."""
        try:
            ino = os.stat(self._wal_path).st_ino
        except FileNotFoundError:
            return None
        if self._wal_fd is None or ino != self._wal_ino:
            if self._wal_fd is not None:
                os.close(self._wal_fd)
                self._wal_fd = None
            self._wal_fd = os.open(self._wal_path, os.O_RDWR)
            self._wal_ino = ino
            _sync_dir(self.path.parent)  # the new WAL's directory entry
        return self._wal_fd

    def sync(self) -> None:
        """Put every write committed before the call on stable storage (``fsync`` of the WAL)."""
        target = self._written
        with self._sync_lock:
            if self._synced >= target:
                return  # a flush that began after those writes has completed
            start = self._written
            try:
                fd = self._wal_descriptor()
                if fd is None:
                    _sync_file(self.path)
                else:
                    os.fsync(fd)
            except OSError as exc:
                raise JournalError(f"cannot flush the execution journal {self.path}: {exc}") from exc
            self._synced = start
            self.syncs += 1

    def put_order(self, order: OrderRecord) -> None:
        """Insert or replace, committed before returning."""
        values = order_row(order)
        self._write("INSERT OR REPLACE INTO exec_orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", values)

    def put_fill(self, fill: Fill, episode_id: str) -> bool:
        """Insert unless (venue, trade id) is known; committed before returning."""
        n = self._write(
            "INSERT OR IGNORE INTO exec_fills (venue, trade_id, symbol, order_id, client_id, episode_id,"
            " side, price, quantity, fee, fee_asset, ts, is_maker) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            fill_row(fill, episode_id),
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
        """Set or clear, on stable storage before returning (a kill switch outlives a power cut)."""
        if value is None:
            self._write("DELETE FROM exec_flags WHERE name = ?", (name,))
        else:
            self._write("INSERT OR REPLACE INTO exec_flags VALUES (?, ?)", (name, value))
        self.sync()

    def flags(self) -> dict[str, str]:
        """Every flag."""
        return dict(self._db.execute("SELECT name, value FROM exec_flags").fetchall())

    def orders(self, open_only: bool = False) -> list[OrderRecord]:
        """Orders in insertion order."""
        rows = self._db.execute("SELECT * FROM exec_orders ORDER BY rowid").fetchall()
        out = [order_from_row(r) for r in rows]
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
        return [fill_from_row(r) for r in rows]

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
        """Flush, stop the checkpoint thread and close the connection."""
        try:
            self.sync()
        finally:
            self._checkpointer.close()
            if self._wal_fd is not None:
                os.close(self._wal_fd)
                self._wal_fd = None
            self._db.close()


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(path: Path) -> None:
    """Flush a directory's entries (a new file's name) where the platform allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems do not sync directories
    finally:
        os.close(fd)
