"""Fixtures: a fresh database per test on the PostgreSQL server at 127.0.0.1:5432, and a
private server for the tests that stop one."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest
from arbot_postgres.testing import SERVER, PrivateServer, admin


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A DSN of a database created for this test and dropped after it (named with the prefix in
    ``ARBOT_PG_TEST_PREFIX``, default ``arbot_test``, so runs sharing a server can be told apart)."""
    name = f"{os.environ.get('ARBOT_PG_TEST_PREFIX', 'arbot_test')}_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(admin(f"CREATE DATABASE {name}"))
    except OSError as exc:
        pytest.fail(f"PostgreSQL is not running on 127.0.0.1:5432 ({exc}); .ci/run starts it")
    yield f"{SERVER}/{name}"
    asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def private_pg() -> Iterator[PrivateServer]:
    """A running private server the test may stop and start."""
    server = PrivateServer()
    try:
        server.start()
        yield server
    finally:
        server.destroy()
