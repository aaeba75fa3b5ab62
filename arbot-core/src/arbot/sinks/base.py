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
import uuid
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import attrs
from pydantic import Field
from typing_extensions import TypeVar

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
    #: Unique per start of a bot: two starts of one configuration share ``run_id`` (it is
    #: derived from the configuration) but never ``instance``, so keyed stores keep both.
    instance: str = attrs.field(factory=lambda: uuid.uuid4().hex[:16])

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


#: The settings model of a batching sink.
B = TypeVar("B", bound=BatchingSettings, default=BatchingSettings, covariant=True)


class BatchingSink(Sink[B]):
    """Base class for stores: buffered, batched, retried, spilled and replayed, in order.

    Its internals are name-mangled (``__buffer``, ``__write``...), so a subclass may use any
    ``_name`` of its own without replacing the writer's machinery by accident.
    """

    Settings: ClassVar[type[ComponentSettings]] = BatchingSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self.__buffer: collections.deque[Any] = collections.deque()
        self.__wake = threading.Event()
        self.__stop = threading.Event()
        self.__thread: threading.Thread | None = None
        self.__lock = threading.Lock()
        self.counters = Counters()
        self.__received = 0
        self.__spill_seq = 0
        self.__last_spill_ns = 0
        self.__opened = False
        self.__closed = False
        spill = settings.spill_dir
        self.spill_path = ctx.config.resolve_path(spill) if spill else ctx.output_path / "spill" / self.name
        #: The run whose events :meth:`emit` receives (spills of earlier runs keep their own).
        self.run = RunInfo.of(ctx)
        self.__pending: collections.deque[Path] = collections.deque()
        self.healthy = True
        self.last_error: str | None = None
        self.__down_since: float | None = None
        self.__given_up: str | None = None

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
        if self.__given_up is not None:
            raise StoreDownError(self.__given_up)
        self.__received += 1
        self.__buffer.append(event)
        # wake the writer once per full batch: Event.set() takes a lock, which every event of a
        # burst would otherwise pay while the writer is busy
        if len(self.__buffer) >= self.settings.batch_size and not self.__wake.is_set():
            self.__wake.set()

    def start(self) -> None:
        """Pick up spill files left by earlier runs and start the writer thread."""
        self.__pending.extend(self.__spill_files())
        self.__thread = threading.Thread(target=self.__run, name=f"arbot-sink-{self.name}", daemon=True)
        self.__thread.start()

    def close(self) -> None:
        """Flush everything (replaying any spill if the store is back) and stop the thread."""
        self.__stop.set()
        self.__wake.set()
        if self.__thread is not None:
            self.__thread.join()
            self.__thread = None
        self.__closed = True

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until the buffer is empty (tests and checkpoints)."""
        deadline = time.monotonic() + timeout
        self.__wake.set()
        while (self.__buffer or self.__lock.locked()) and time.monotonic() < deadline:
            self.__wake.set()
            time.sleep(0.005)

    def lost(self) -> int:
        """Events in neither the store nor a spill file: spills that failed, and (after
        :meth:`close`) anything the writer could not take from the buffer."""
        left = len(self.__buffer) if self.__closed else 0
        return self.counters["lost"] + left

    def stats(self) -> dict[str, int | str]:
        """received, written, batches, retries, write_errors, spilled, replayed, spill_errors,
        lost, buffered, spill_pending (1 while spill files wait), pending_spill_files and
        last_error ("" when none)."""
        out: dict[str, int | str] = dict(self.counters.as_dict())
        for key in ("written", "spilled", "replayed", "spill_errors"):
            out.setdefault(key, 0)
        out["received"] = self.__received
        out["lost"] = self.lost()
        out["buffered"] = len(self.__buffer)
        out["pending_spill_files"] = len(self.__pending)
        out["spill_pending"] = int(bool(self.__pending))
        out["last_error"] = self.last_error or ""
        return out

    # -- writer thread -------------------------------------------------------------------

    def __run(self) -> None:
        try:
            self.__writer_loop()
        except BaseException as exc:  # a bug in a subclass or here: record it, keep the events
            self.__failed(exc)
            with self.__lock:
                while self.__buffer:
                    self.__spill(self.__take())

    def __writer_loop(self) -> None:
        while True:
            self.__wake.wait(self.settings.flush_interval_s)
            self.__wake.clear()
            stopping = self.__stop.is_set()
            with self.__lock:
                self.__writer_pass()
                self.__check_outage()
                if stopping:
                    if self.__opened:
                        self.__replay_spill()
                        self.__attempt(self.close_store)
                    return

    def __writer_pass(self) -> None:
        """One writer pass: open if needed, replay spills, then write or spill the buffer."""
        if not self.__opened:
            self.__opened = self.__with_retry(self.open_store)
        if self.__opened:
            self.__replay_spill()
        while self.__buffer:
            batch = self.__take()
            # Behind a pending spill, a batch waits in the spill too: it never overtakes it.
            direct = self.__opened and not self.__pending and len(self.__buffer) <= self.settings.max_buffer
            if not (direct and self.__write(batch, self.run)):
                self.__spill(batch)

    def __check_outage(self) -> None:
        limit = self.settings.max_outage_s
        if limit is None or self.__down_since is None or self.__given_up is not None:
            return
        down = time.monotonic() - self.__down_since
        if down > limit:
            self.__given_up = (
                f"sink {self.name!r}: store down for {down:.1f} s (limit {limit:g} s): {self.last_error}; "
                f"{len(self.__pending)} spill file(s) kept in {self.spill_path} for the next run"
            )

    def __take(self) -> list[Any]:
        n = min(self.settings.batch_size, len(self.__buffer))
        pop = self.__buffer.popleft
        return [pop() for _ in range(n)]

    def __attempt(self, fn: Callable[[], None]) -> bool:
        try:
            fn()
            return True
        except Exception as exc:
            self.__failed(exc)
            return False

    def __failed(self, exc: BaseException) -> None:
        self.healthy = False
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.counters["write_errors"] += 1

    def __with_retry(self, fn: Callable[[], None]) -> bool:
        """Run a store operation with retries; track since when the store is down."""
        delay = self.settings.retry_backoff_s
        for attempt in range(self.settings.retries + 1):
            if self.__attempt(fn):
                self.__down_since = None
                return True
            if attempt < self.settings.retries:
                self.counters["retries"] += 1
                time.sleep(delay)
                delay *= 2
        if self.__down_since is None:
            self.__down_since = time.monotonic()
        return False

    def __write(self, batch: list[Any], run: RunInfo) -> bool:
        if not self.__with_retry(lambda: self.write_batch(batch, run)):
            return False
        self.counters["written"] += len(batch)
        self.counters["batches"] += 1
        self.healthy = True
        return True

    def __spill_files(self) -> list[Path]:
        if not self.spill_path.is_dir():
            return []
        return sorted(self.spill_path.glob(_SPILL_GLOB))

    def __spill_name(self, run: RunInfo) -> str:
        # Names sort in emit order: a time that never goes backwards within the process,
        # then a sequence number; the run id is in the name for people, in the header for code.
        ns = max(time.time_ns(), self.__last_spill_ns + 1)
        self.__last_spill_ns = ns
        self.__spill_seq += 1
        run_tag = re.sub(r"[^A-Za-z0-9_.-]", "_", run.run_id)[:64]
        return f"batch-{ns:020d}-{self.__spill_seq:06d}-{run_tag}.pkl"

    def __spill(self, batch: list[Any]) -> None:
        """Spill a batch of the current run; a spill that fails counts its events as lost."""
        try:
            self.spill_path.mkdir(parents=True, exist_ok=True)
            path = self.spill_path / self.__spill_name(self.run)
            write_spill(path, self.run, batch)
        except Exception as exc:
            self.__failed(exc)
            self.counters["spill_errors"] += 1
            self.counters["lost"] += len(batch)
            return
        self.__pending.append(path)
        self.counters["spilled"] += len(batch)

    def __replay_spill(self) -> None:
        """Write pending spill files in order; stop at the first that fails (kept for later)."""
        while self.__pending:
            path = self.__pending[0]
            try:
                run, batch = read_spill(path)
            except Exception as exc:
                self.__failed(exc)
                self.__set_aside(path)
                continue
            if not self.__write(batch, run):
                return
            self.__pending.popleft()
            self.counters["replayed"] += len(batch)
            try:
                path.unlink()
            except OSError as exc:
                self.__failed(exc)

    def __set_aside(self, path: Path) -> None:
        """Rename an unreadable spill file out of the replay queue (kept for inspection)."""
        self.__pending.popleft()
        self.counters["unreadable_spill_files"] += 1
        try:
            path.replace(path.with_suffix(".unreadable"))
        except OSError as exc:
            self.__failed(exc)
