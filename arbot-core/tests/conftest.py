"""Shared fixtures of arbot-core's tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from arbot.config import BotConfig, config_from_dict


@pytest.fixture
def make_config(tmp_path: Path) -> Any:
    """Build a BotConfig from a dict, writing output under tmp_path."""

    def make(data: dict[str, Any] | None = None) -> BotConfig:
        data = dict(data or {})
        data.setdefault("output_dir", str(tmp_path / "out"))
        return config_from_dict(data)

    return make
