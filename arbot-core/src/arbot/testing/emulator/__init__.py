"""A kit to write venue emulators, and the connector conformance suite.

* :class:`EmulatorServer` — a real WebSocket + HTTP server on 127.0.0.1 (random free ports) to
  subclass with one venue's public protocol (composable :meth:`~EmulatorServer.routes` and
  :meth:`~EmulatorServer.ws_routes`), with fault injection (dropped connections, sequence
  gaps, bad checksums, garbage frames, stalls, slow-consumer kicks, HTTP failures);
* :class:`ScriptedBook` — a seeded random walk of an order book that drives an emulator;
  :class:`Recording` — an NDJSON capture loaded to drive an emulator instead;
* one base per book bootstrap of :mod:`arbot.connectors.bootstrap`, so a connector author
  picks the matching pair: :class:`RestSnapshotEmulator` (deltas on the stream, snapshots over
  REST with their update id), :class:`StreamSnapshotEmulator` (a snapshot on the stream after
  each subscribe; :class:`OpArgsEmulator` for the ``op``/``args`` family) and
  :class:`FullBookEmulator` (every message the whole top-N book);
* :func:`fast_settings` — a connector's settings pointing at its emulator, test-sized timers;
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
from arbot.testing.emulator.full_book import FullBookEmulator
from arbot.testing.emulator.rest_snapshot import Delta, RestSnapshotEmulator
from arbot.testing.emulator.scripted import ScriptedBook
from arbot.testing.emulator.server import (
    EmulatorClient,
    EmulatorServer,
    EmulatorStats,
    Recording,
    WsRoute,
)
from arbot.testing.emulator.settings import TEST_TIMERS, fast_settings
from arbot.testing.emulator.stream_snapshot import OpArgsEmulator, StreamSnapshotEmulator

__all__ = [
    "TEST_TIMERS",
    "BookSource",
    "ConformanceSession",
    "ConnectorConformance",
    "Delta",
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
    "RestSnapshotEmulator",
    "ScriptedBook",
    "ScriptedBookSource",
    "StaticBook",
    "StreamSnapshotEmulator",
    "WsRoute",
    "books_equal",
    "fast_settings",
    "make_context",
    "parse_faults",
]
