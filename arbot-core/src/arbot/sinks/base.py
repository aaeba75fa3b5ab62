"""BatchingSink: a bounded buffer, batched writes on a writer thread, retry with backoff,
spill to local disk while the store is down, replay on recovery, and counters for all of it.

A subclass implements :meth:`BatchingSink.write_batch` (and optionally ``open_store`` /
``close_store``). ``emit`` only appends to a deque, so the engine never waits on a store.
"""

from __future__ import annotations

import collections
import pickle
import threading
import time
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field
from typing_extensions import TypeVar

from arbot.components import BotContext, Sink
from arbot.config import ComponentSettings
from arbot.stats import Counters

__all__ = ["BatchingSettings", "BatchingSink"]



class BatchingSettings(ComponentSettings):
    """Buffering and retry settings every batching sink accepts."""

    batch_size: int = Field(5_000, ge=1)
    flush_interval_s: float = Field(0.5, gt=0)
    max_buffer: int = Field(200_000, ge=1, description="events held in memory before spilling")
    retries: int = Field(3, ge=0)
    retry_backoff_s: float = Field(0.05, ge=0)
    spill_dir: str | None = Field(None, description="default: <output_dir>/spill/<sink name>")


#: The settings model of a batching sink.
B = TypeVar("B", bound=BatchingSettings, default=BatchingSettings, covariant=True)


class BatchingSink(Sink[B]):
    """Base class for stores: buffered, batched, retried, spilled and replayed."""

    Settings: ClassVar[type[ComponentSettings]] = BatchingSettings

    def __init__(self, settings: Any, ctx: BotContext) -> None:
        super().__init__(settings, ctx)
        self._buffer: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.counters = Counters()
        self._spill_seq = 0
        spill = settings.spill_dir
        self.spill_path = ctx.config.resolve_path(spill) if spill else ctx.output_path / "spill" / self.name
        self.healthy = True
        self.last_error: str | None = None

    # -- to implement -------------------------------------------------------------------

    def open_store(self) -> None:
        """Connect to the store / create tables (runs on the writer thread)."""

    @abstractmethod
    def write_batch(self, batch: list[Any]) -> None:
        """Write events to the store; raise on failure (the batch is retried, then spilled)."""

    def close_store(self) -> None:
        """Close the store (runs on the writer thread, after the final flush)."""

    # -- engine side ----------------------------------------------------------------------

    def emit(self, event: Any) -> None:
        """Enqueue one event (never blocks)."""
        self._buffer.append(event)
        if len(self._buffer) >= self.settings.batch_size:
            self._wake.set()

    def start(self) -> None:
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._run, name=f"arbot-sink-{self.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Flush everything (replaying any spill if the store is back) and stop the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until the buffer is empty (tests and checkpoints)."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        while (self._buffer or self._lock.locked()) and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.005)

    def stats(self) -> dict[str, int]:
        """written, batches, retries, write_errors, spilled, replayed, pending_spill_files."""
        out = self.counters.as_dict()
        out["buffered"] = len(self._buffer)
        out["pending_spill_files"] = len(self._spill_files())
        return out

    # -- writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        opened = False
        while True:
            self._wake.wait(self.settings.flush_interval_s)
            self._wake.clear()
            stopping = self._stop.is_set()
            with self._lock:
                if not opened:
                    opened = self._try(self.open_store)
                if opened:
                    self._replay_spill()
                while self._buffer:
                    batch = self._take()
                    if len(self._buffer) > self.settings.max_buffer:
                        self._spill(batch)
                        continue
                    if not opened or not self._write_with_retry(batch):
                        self._spill(batch)
                        if not stopping:
                            break
                if stopping:
                    if opened:
                        self._try(self.close_store)
                    return

    def _take(self) -> list[Any]:
        n = min(self.settings.batch_size, len(self._buffer))
        pop = self._buffer.popleft
        return [pop() for _ in range(n)]

    def _try(self, fn: Any) -> bool:
        try:
            fn()
            return True
        except Exception as exc:
            self._failed(exc)
            return False

    def _failed(self, exc: Exception) -> None:
        self.healthy = False
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.counters["write_errors"] += 1

    def _write_with_retry(self, batch: list[Any]) -> bool:
        delay = self.settings.retry_backoff_s
        for attempt in range(self.settings.retries + 1):
            try:
                self.write_batch(batch)
                self.counters["written"] += len(batch)
                self.counters["batches"] += 1
                self.healthy = True
                return True
            except Exception as exc:
                self._failed(exc)
                if attempt < self.settings.retries:
                    self.counters["retries"] += 1
                    time.sleep(delay)
                    delay *= 2
        return False

    def _spill_files(self) -> list[Path]:
        if not self.spill_path.exists():
            return []
        return sorted(self.spill_path.glob("batch-*.pkl"))

    def _spill(self, batch: list[Any]) -> None:
        self.spill_path.mkdir(parents=True, exist_ok=True)
        self._spill_seq += 1
        path = self.spill_path / f"batch-{time.time_ns():020d}-{self._spill_seq:06d}.pkl"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
        self.counters["spilled"] += len(batch)

    def _replay_spill(self) -> None:
        for path in self._spill_files():
            batch = pickle.loads(path.read_bytes())
            if not self._write_with_retry(batch):
                return
            path.unlink()
            self.counters["replayed"] += len(batch)
