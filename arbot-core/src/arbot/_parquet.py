"""Polars is an optional dependency of core: only Parquet recording and replay need it.

Modules that use it import it inside the functions that need it and call
:func:`require_polars` first (in their constructor), so a configuration that uses Parquet fails
at start-up with an error naming the extra to install, and core imports without polars.
"""

from __future__ import annotations

import importlib.util

from arbot.errors import ConfigError

__all__ = ["PARQUET_EXTRA", "require_polars"]

#: The command that installs what Parquet support needs.
PARQUET_EXTRA = "pip install 'arbot-core[parquet]'"


def require_polars(feature: str) -> None:
    """Raise :class:`~arbot.errors.ConfigError` naming ``feature`` and the extra if polars is absent."""
    if importlib.util.find_spec("polars") is None:
        raise ConfigError(
            f"{feature} needs polars (the 'parquet' extra of arbot-core), which is not installed: "
            f"{PARQUET_EXTRA}"
        )
