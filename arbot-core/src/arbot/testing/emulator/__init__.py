"""A kit to write venue emulators, and the connector conformance suite.

* :class:`EmulatorServer` — a real WebSocket + HTTP server on 127.0.0.1 (random free ports) to
  subclass with one venue's public protocol, with fault injection (dropped connections,
  sequence gaps, bad checksums, garbage frames, stalls, slow-consumer kicks, HTTP failures);
* :class:`ScriptedBook` — a seeded random walk of an order book that drives an emulator;
* :class:`Recording` — an NDJSON capture loaded to drive an emulator instead;
* :class:`SnapshotEmulator` / :class:`OpArgsEmulator` — bases for venues that send book
  snapshots on the stream (held back while paused) and for the ``op``/``args`` protocol
  family; :func:`fast_settings` — test-sized settings of such a connector;
* :class:`FullBookEmulator` / :func:`fullbook_settings` — the full top-N book venue family
  (Upbit, Bithumb);
* :class:`EmulatedExchange` — the venue-agnostic exchange core under every venue's private API
  (accounts, matching engine, events, transfers, trading faults; see
  :mod:`arbot.testing.emulator.exchange`);
* :class:`ConnectorConformance` — the tests every connector passes against its emulator
  (subclass it in your package's tests); :class:`FullBookConformance` — its flavour for
  full-book venues.
"""

from arbot.testing.emulator.conformance import (
    ConformanceSession,
    ConnectorConformance,
    FullBookConformance,
    books_equal,
    make_context,
)
from arbot.testing.emulator.exchange import (
    BookSource,
    EmulatedExchange,
    EventFeed,
    FeedDropped,
    ScriptedBookSource,
    StaticBook,
)
from arbot.testing.emulator.exchange_faults import Fault, FaultInjector, FaultKind, parse_faults
from arbot.testing.emulator.fullbook import FullBookEmulator, fullbook_settings
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.testing.emulator.server import EmulatorClient, EmulatorServer, EmulatorStats, Recording
from arbot.testing.emulator.snapshot import OpArgsEmulator, SnapshotEmulator, fast_settings

__all__ = [
    "BookSource",
    "ConformanceSession",
    "ConnectorConformance",
    "EmulatedExchange",
    "EmulatorClient",
    "EmulatorServer",
    "EmulatorStats",
    "EventFeed",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "FeedDropped",
    "FullBookConformance",
    "FullBookEmulator",
    "OpArgsEmulator",
    "Recording",
    "ScriptedBook",
    "ScriptedBookSource",
    "SnapshotEmulator",
    "StaticBook",
    "books_equal",
    "fast_settings",
    "fullbook_settings",
    "make_context",
    "parse_faults",
]
