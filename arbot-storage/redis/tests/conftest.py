"""Fixtures: a key prefix of its own per test on the Redis server at 127.0.0.1:6379 (its keys
deleted afterwards), and configuration builders in the ``[<kind>.<name>]`` shape."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh prefix; every key under it is deleted after the test."""
    client = redis.Redis.from_url(URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not running on 127.0.0.1:6379 ({exc}); .ci/run starts it")
    prefix = f"arbot-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()
