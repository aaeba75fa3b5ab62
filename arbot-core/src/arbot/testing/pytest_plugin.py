"""The pytest plugin arbot-core registers (entry point ``pytest11``): fixtures for plugin tests.

It also runs every :class:`~arbot.testing.emulator.ConnectorConformance` test of a
:class:`~arbot.connectors.base.StreamingConnector` once per WebSocket transport (``picows``
and ``websockets``; picows is skipped, with the reason, when it is not installed), so each
venue's suite covers both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from arbot.connectors.ws_transport import picows_available
from arbot.testing.data import shared_data

#: The WebSocket transports every streaming connector's conformance suite runs on.
WS_TRANSPORTS = ("picows", "websockets")


@pytest.fixture
def arbot_shared_data() -> Callable[[str], Path]:
    """``arbot_shared_data("ws/binance/...")``: a path in the real captured data, or skip/fail."""
    return shared_data


@pytest.fixture(autouse=True)
def _arbot_fresh_rate_limiters() -> None:
    """Every test starts with no process-wide rate limiter: a limiter a test's connector or
    gateway made for a host (with that test's budget) is not shared with the next test."""
    from arbot.connectors.ratelimit import reset_shared_limiters

    reset_shared_limiters()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize a streaming connector's conformance tests by WebSocket transport."""
    cls = metafunc.cls
    if cls is None:
        return
    from arbot.connectors.base import StreamingConnector
    from arbot.testing.emulator.conformance import ConnectorConformance

    connector = cls.__dict__.get("connector_class") or getattr(cls, "connector_class", None)
    if not (issubclass(cls, ConnectorConformance) and isinstance(connector, type)
            and issubclass(connector, StreamingConnector)):
        return
    skip = pytest.mark.skipif(not picows_available(), reason="picows is not installed (arbot-core[fast])")
    metafunc.fixturenames.append("arbot_ws_transport")
    metafunc.parametrize("arbot_ws_transport",
                         [pytest.param(t, marks=skip) if t == "picows" else t for t in WS_TRANSPORTS])


@pytest.fixture(autouse=True)
def _arbot_conformance_transport(request: pytest.FixtureRequest) -> None:
    """Give a parametrized conformance test its transport (see :func:`pytest_generate_tests`)."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and "arbot_ws_transport" in callspec.params:
        request.instance.ws_transport = callspec.params["arbot_ws_transport"]
