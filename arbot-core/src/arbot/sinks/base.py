"""BatchingSink: a bounded buffer, batched writes on a writer thread, retry with backoff,
spill to local disk while the store is down, replay on recovery, and counters for all of it.

A subclass implements :meth:`BatchingSink.write_batch` (and optionally ``open_store`` /
``close_store``). ``emit`` only appends to a deque, so the engine never waits on a store.

Guarantees (each has a test in ``arbot-core/tests/test_sink_faults.py``):

- **Order**: events reach the store in emit order. While any spill file is pending, new
  batches are spilled behind it, never written ahead of it — after a failed replay as after a
  buffer overflow.
- **Run id**: a spill file carries the :class:`RunInfo` of the run that emitted its events; a
  later run replays it under that run's id (``write_batch(events, run)``).
- **Nothing lost silently**: a store that cannot be opened is retried every flush and its
  batches are spilled; a batch that can be neither stored nor spilled is counted in
  :meth:`BatchingSink.lost`, with the error in ``stats()["last_error"]``. The writer thread
  survives every store and disk error.
- **A store down too long is an error**: with ``max_outage_s`` set, once the store has failed
  for that long without a success, :meth:`BatchingSink.emit` raises :class:`StoreDownError`,
  which the engine's ``on_component_error`` policy turns into a stopped (or disabled) sink and
  a non-zero exit; the spill files stay on disk for the next run.
"""

from __future__ import annotations

import collections
import datetime as dt
import pickle
import re
import threading
import time
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import attrs
from pydantic import Field

from arbot.components import BotContext, Sink
from arbot.config import ComponentSettings
from arbot.errors import ArbotError
from arbot.stats import Counters

__all__ = ["BatchingSettings", "BatchingSink", "RunInfo", "StoreDownError", "read_spill", "write_spill"]

#: Version of the spill file layout: a pickled ``(SPILL_FORMAT, run fields, events)`` tuple.
SPILL_FORMAT = 2
_SPILL_GLOB = "batch-*.pkl"


@attrs.frozen
class RunInfo:
    """The run a batch belongs to: carried into spill files so a replay keeps its origin."""

    run_id: str
    mode: str
    started_at: str  # ISO-8601 UTC
    config_file: str | None = None

    @classmethod
    def of(cls, ctx: BotContext) -> RunInfo:
        """The current run of ``ctx``, started now."""
        src = ctx.config.source_file
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return cls(ctx.run_id, ctx.mode, started, str(src) if src else None)


def write_spill(path: Path, run: RunInfo, events: list[Any]) -> None:
    """Write one spill file atomically (a temporary file renamed into place)."""
    tmp = path.with_suffix(".tmp")
    payload = (SPILL_FORMAT, attrs.astuple(run), events)
    tmp.write_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(path)


def read_spill(path: Path) -> tuple[RunInfo, list[Any]]:
    """Read a spill file written by :func:`write_spill`; ``ValueError`` names a foreign layout."""
    payload = pickle.loads(path.read_bytes())
    if not (isinstance(payload, tuple) and len(payload) == 3 and payload[0] == SPILL_FORMAT):
        raise ValueError(f"{path}: not a spill file of format {SPILL_FORMAT}")
    _, run_fields, events = payload
    return RunInfo(*run_fields), list(events)


class StoreDownError(ArbotError):
    """A sink's store stayed down longer than its ``max_outage_s``."""


class BatchingSettings(ComponentSettings):
    """Buffering and retry settings every batching sink accepts."""

    batch_size: int = Field(5_000, ge=1, description="events written per batch")
    flush_interval_s: float = Field(0.5, gt=0, description="seconds between writer passes")
    max_buffer: int = Field(200_000, ge=1, description="events held in memory before spilling")
    retries: int = Field(3, ge=0, description="retries of a failed open or write before spilling")
    retry_backoff_s: float = Field(0.05, ge=0, description="first retry delay, doubled each retry")
    spill_dir: str | None = Field(None, description="default: <output_dir>/spill/<sink name>")
    max_outage_s: float | None = Field(
        None, gt=0, description="seconds the store may stay down before the sink fails the run (none: never)"
    )


class BatchingSink(Sink):
    """Base class for stores: buffered, batched, retried, spilled and replayed, in order."""

    Settings: ClassVar[type[ComponentSettings]] = BatchingSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self._buffer: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.counters = Counters()
        self._received = 0
        self._spill_seq = 0
        self._last_spill_ns = 0
        self._opened = False
        self._closed = False
        spill = settings.spill_dir
        self.spill_path = ctx.config.resolve_path(spill) if spill else ctx.output_path / "spill" / self.name
        #: The run whose events :meth:`emit` receives (spills of earlier runs keep their own).
        self.run = RunInfo.of(ctx)
        self._pending: collections.deque[Path] = collections.deque()
        self.healthy = True
        self.last_error: str | None = None
        self._down_since: float | None = None
        self._given_up: str | None = None

    # -- to implement -------------------------------------------------------------------

    def open_store(self) -> None:
        """Connect to the store / create tables (runs on the writer thread; raise on failure,
        it is retried on every pass while the batches are spilled)."""

    @abstractmethod
    def write_batch(self, batch: list[Any], run: RunInfo) -> None:
        """Write the events of ``run`` to the store; raise on failure (retried, then spilled).

        ``run`` is the run that emitted the events: the current one, or an earlier one whose
        spill is being replayed. The same batch may be written twice (a replay after a crash
        between the write and the removal of its spill file): stores with keys should make
        the write idempotent.
        """

    def close_store(self) -> None:
        """Close the store (runs on the writer thread, after the final flush)."""

    # -- engine side ----------------------------------------------------------------------

    def emit(self, event: Any) -> None:
        """Enqueue one event (never blocks); raises :class:`StoreDownError` once the store has
        been down longer than ``max_outage_s``."""
        if self._given_up is not None:
            raise StoreDownError(self._given_up)
        self._received += 1
        self._buffer.append(event)
        if len(self._buffer) >= self.settings.batch_size:
            self._wake.set()

    def start(self) -> None:
        """Pick up spill files left by earlier runs and start the writer thread."""
        self._pending.extend(self._spill_files())
        self._thread = threading.Thread(target=self._run, name=f"arbot-sink-{self.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Flush everything (replaying any spill if the store is back) and stop the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._closed = True

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until the buffer is empty (tests and checkpoints)."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        while (self._buffer or self._lock.locked()) and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.005)

    def lost(self) -> int:
        """Events in neither the store nor a spill file: spills that failed, and (after
        :meth:`close`) anything the writer could not take from the buffer."""
        left = len(self._buffer) if self._closed else 0
        return self.counters["lost"] + left

    def stats(self) -> dict[str, int | str]:
        """received, written, batches, retries, write_errors, spilled, replayed, spill_errors,
        lost, buffered, spill_pending (1 while spill files wait), pending_spill_files and
        last_error ("" when none)."""
        out: dict[str, int | str] = dict(self.counters.as_dict())
        for key in ("written", "spilled", "replayed", "spill_errors"):
            out.setdefault(key, 0)
        out["received"] = self._received
        out["lost"] = self.lost()
        out["buffered"] = len(self._buffer)
        out["pending_spill_files"] = len(self._pending)
        out["spill_pending"] = int(bool(self._pending))
        out["last_error"] = self.last_error or ""
        return out

    # -- writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # a bug in a subclass or here: record it, keep the events
            self._failed(exc)
            with self._lock:
                while self._buffer:
                    self._spill(self._take())

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.settings.flush_interval_s)
            self._wake.clear()
            stopping = self._stop.is_set()
            with self._lock:
                self._pass()
                self._check_outage()
                if stopping:
                    if self._opened:
                        self._replay_spill()
                        self._attempt(self.close_store)
                    return

    def _pass(self) -> None:
        """One writer pass: open if needed, replay spills, then write or spill the buffer."""
        if not self._opened:
            self._opened = self._with_retry(self.open_store)
        if self._opened:
            self._replay_spill()
        while self._buffer:
            batch = self._take()
            # Behind a pending spill, a batch waits in the spill too: it never overtakes it.
            direct = self._opened and not self._pending and len(self._buffer) <= self.settings.max_buffer
            if not (direct and self._write(batch, self.run)):
                self._spill(batch)

    def _check_outage(self) -> None:
        limit = self.settings.max_outage_s
        if limit is None or self._down_since is None or self._given_up is not None:
            return
        down = time.monotonic() - self._down_since
        if down > limit:
            self._given_up = (
                f"sink {self.name!r}: store down for {down:.1f} s (limit {limit:g} s): {self.last_error}; "
                f"{len(self._pending)} spill file(s) kept in {self.spill_path} for the next run"
            )

    def _take(self) -> list[Any]:
        n = min(self.settings.batch_size, len(self._buffer))
        pop = self._buffer.popleft
        return [pop() for _ in range(n)]

    def _attempt(self, fn: Callable[[], None]) -> bool:
        try:
            fn()
            return True
        except Exception as exc:
            self._failed(exc)
            return False

    def _failed(self, exc: BaseException) -> None:
        self.healthy = False
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.counters["write_errors"] += 1

    def _with_retry(self, fn: Callable[[], None]) -> bool:
        """Run a store operation with retries; track since when the store is down."""
        delay = self.settings.retry_backoff_s
        for attempt in range(self.settings.retries + 1):
            if self._attempt(fn):
                self._down_since = None
                return True
            if attempt < self.settings.retries:
                self.counters["retries"] += 1
                time.sleep(delay)
                delay *= 2
        if self._down_since is None:
            self._down_since = time.monotonic()
        return False

    def _write(self, batch: list[Any], run: RunInfo) -> bool:
        if not self._with_retry(lambda: self.write_batch(batch, run)):
            return False
        self.counters["written"] += len(batch)
        self.counters["batches"] += 1
        self.healthy = True
        return True

    def _spill_files(self) -> list[Path]:
        if not self.spill_path.is_dir():
            return []
        return sorted(self.spill_path.glob(_SPILL_GLOB))

    def _spill_name(self, run: RunInfo) -> str:
        # Names sort in emit order: a time that never goes backwards within the process,
        # then a sequence number; the run id is in the name for people, in the header for code.
        ns = max(time.time_ns(), self._last_spill_ns + 1)
        self._last_spill_ns = ns
        self._spill_seq += 1
        run_tag = re.sub(r"[^A-Za-z0-9_.-]", "_", run.run_id)[:64]
        return f"batch-{ns:020d}-{self._spill_seq:06d}-{run_tag}.pkl"

    def _spill(self, batch: list[Any]) -> None:
        """Spill a batch of the current run; a spill that fails counts its events as lost."""
        try:
            self.spill_path.mkdir(parents=True, exist_ok=True)
            path = self.spill_path / self._spill_name(self.run)
            write_spill(path, self.run, batch)
        except Exception as exc:
            self._failed(exc)
            self.counters["spill_errors"] += 1
            self.counters["lost"] += len(batch)
            return
        self._pending.append(path)
        self.counters["spilled"] += len(batch)

    def _replay_spill(self) -> None:
        """Write pending spill files in order; stop at the first that fails (kept for later)."""
        while self._pending:
            path = self._pending[0]
            try:
                run, batch = read_spill(path)
            except Exception as exc:
                self._failed(exc)
                self._set_aside(path)
                continue
            if not self._write(batch, run):
                return
            self._pending.popleft()
            self.counters["replayed"] += len(batch)
            try:
                path.unlink()
            except OSError as exc:
                self._failed(exc)

    def _set_aside(self, path: Path) -> None:
        """Rename an unreadable spill file out of the replay queue (kept for inspection)."""
        self._pending.popleft()
        self.counters["unreadable_spill_files"] += 1
        try:
            path.replace(path.with_suffix(".unreadable"))
        except OSError as exc:
            self._failed(exc)
