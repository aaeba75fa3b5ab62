"""Client order ids unique across restarts: a prefix, the creation time and randomness."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable

__all__ = ["ClientIdFactory"]

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _ALPHABET[r] + out
        if n == 0:
            return out


class ClientIdFactory:
    """Makes ids ``<prefix><ms time, base36><counter><random>``: letters and digits only (valid
    for every venue: OKX allows 1–32 alphanumerics), at most ``max_len`` characters.

    The millisecond time makes ids of different runs differ; the counter makes ids of one
    millisecond differ; the random tail guards against two processes with the same prefix.
    """

    def __init__(
        self, prefix: str = "arb", max_len: int = 32, clock: Callable[[], float] = time.time
    ) -> None:
        if not prefix.isalnum():
            raise ValueError(f"client id prefix must be alphanumeric, got {prefix!r}")
        if len(prefix) + 16 > max_len:
            raise ValueError(f"client id prefix {prefix!r} too long for {max_len} characters")
        self.prefix = prefix
        self.max_len = max_len
        self.clock = clock
        self._counter = itertools.count()

    def __call__(self) -> str:
        """A new id."""
        stamp = _base36(int(self.clock() * 1000)).rjust(9, "0")
        count = _base36(next(self._counter) % 1296).rjust(2, "0")
        tail = _base36(secrets.randbits(26)).rjust(5, "0")[:5]
        return (self.prefix + stamp + count + tail)[: self.max_len]
