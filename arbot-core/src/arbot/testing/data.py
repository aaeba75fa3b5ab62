"""Locating the real captured exchange data used by tests and benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_ENV = "ARBOT_SHARED_DATA"
REQUIRE_ENV = "ARBOT_REQUIRE_SHARED_DATA"


def shared_data_dir() -> Path | None:
    """The ``shared/data`` folder: ``$ARBOT_SHARED_DATA``, else a ``shared/data`` folder beside
    an ancestor of the working directory or of this file (a checkout next to ``shared/``)."""
    env = os.environ.get(SHARED_ENV)
    if env:
        p = Path(env)
        return p if p.is_dir() else None
    for start in (Path.cwd(), Path(__file__).resolve()):
        for parent in (start, *start.parents):
            candidate = parent / "shared" / "data"
            if candidate.is_dir():
                return candidate
    return None


def shared_data(relative: str) -> Path:
    """Path of ``relative`` inside the shared data folder.

    In a test: skips when the data is absent (a user's clone), or fails when
    ``ARBOT_REQUIRE_SHARED_DATA=1`` (CI). Outside pytest it raises FileNotFoundError.
    """
    base = shared_data_dir()
    path = base / relative if base is not None else None
    if path is not None and path.exists():
        return path
    reason = f"real captured data {relative!r} not found (set {SHARED_ENV} to the shared/data folder)"
    try:
        import pytest
    except ImportError:  # pragma: no cover - pytest is always there in tests
        raise FileNotFoundError(reason) from None
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 makes this a failure", pytrace=False)
    pytest.skip(reason)
