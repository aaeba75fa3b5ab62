"""Client order ids unique across restarts: a prefix, the creation time and randomness."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable

__all__ = ["ClientIdFactory"]


class ClientIdFactory:
    """Makes ids ``<prefix><ms time, hex><counter><random>``: letters and digits only (valid
    for every venue: OKX allows 1–32 alphanumerics), at most ``max_len`` characters.

    The millisecond time makes ids of different runs differ; the counter makes ids of one
    millisecond differ; the random tail guards against two processes with the same prefix. The
    tail needs to differ, not to be secret: it comes from the process's pseudo-random generator
    (seeded from the OS at start and again in every forked child), not from a system call per id.
    """

    def __init__(
        self, prefix: str = "arb", max_len: int = 32, clock: Callable[[], float] = time.time
    ) -> None:
        if not prefix.isalnum():
            raise ValueError(f"client id prefix must be alphanumeric, got {prefix!r}")
        if len(prefix) + 18 > max_len:
            raise ValueError(f"client id prefix {prefix!r} too long for {max_len} characters")
        self.prefix = prefix
        self.max_len = max_len
        self.clock = clock
        self._counter = itertools.count()

    def __call__(self) -> str:
        """A new id."""
        # the counter's low byte and 20 random bits make the 7 hex digits after the time
        tail = (next(self._counter) & 0xFF) << 20 | random.getrandbits(20)
        return "%s%011x%07x" % (self.prefix, int(self.clock() * 1000), tail)  # noqa: UP031 (faster)
