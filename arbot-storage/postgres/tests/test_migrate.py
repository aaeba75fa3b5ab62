"""`arbot db migrate`: creates the TRD schema, is idempotent, refuses a newer database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from arbot_postgres.migrations import latest_version
from arbot_postgres.settings import PostgresSettings
from arbot_postgres.testing import query, sinks_toml

ARBOT = [sys.executable, "-m", "arbot"]
TRD_TABLES = {"exchanges", "trades", "arbitrage_signals", "portfolio_snapshots", "daily_performance"}


def _config(tmp_path: Path, dsn: str) -> Path:
    cfg = tmp_path / "bot.toml"
    cfg.write_text(sinks_toml(["postgres"], {"postgres": {"dsn": dsn}}))
    return cfg


def _migrate(cfg: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ARBOT, "db", "migrate", str(cfg), *extra], capture_output=True, text=True, timeout=120, env=env
    )


def test_migrate_creates_the_trd_tables_and_is_idempotent(tmp_path: Path, pg_dsn: str) -> None:
    cfg = _config(tmp_path, pg_dsn)
    first = _migrate(cfg)
    assert first.returncode == 0, first.stderr
    assert "applied 3 migration(s)" in first.stdout and f"version {latest_version()}" in first.stdout
    tables = {
        r["tablename"] for r in query(pg_dsn, "SELECT tablename FROM pg_tables WHERE schemaname='public'")
    }
    assert TRD_TABLES | {"orders", "order_transitions", "episodes", "runs"} <= tables
    assert {"exec_orders", "exec_fills", "exec_episodes", "exec_transitions", "exec_flags"} <= tables
    cols = query(
        pg_dsn,
        "SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns "
        "WHERE table_name = 'arbitrage_signals' AND column_name IN ('id', 'gross_spread', 'metadata_json')",
    )
    assert {(c[0], c[1], c[2], c[3]) for c in cols} == {
        ("id", "uuid", None, None),
        ("gross_spread", "numeric", 10, 6),
        ("metadata_json", "jsonb", None, None),
    }
    second = _migrate(cfg)
    assert second.returncode == 0 and "schema is up to date" in second.stdout
    ledger = query(pg_dsn, "SELECT version FROM arbot_schema_migrations ORDER BY version")
    assert [r[0] for r in ledger] == [1, 2, 3]


def test_migrate_refuses_a_database_newer_than_the_code(tmp_path: Path, pg_dsn: str) -> None:
    cfg = _config(tmp_path, pg_dsn)
    assert _migrate(cfg).returncode == 0
    query(pg_dsn, "INSERT INTO arbot_schema_migrations (version, name) VALUES (99, 'from the future')")
    res = _migrate(cfg)
    assert res.returncode == 1
    assert "version 99, newer than this arbot-postgres knows (3)" in res.stderr


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    cfg = _config(tmp_path, "postgresql://postgres@127.0.0.1:1/nowhere")
    res = _migrate(cfg)
    assert res.returncode == 1 and "cannot connect to postgresql://postgres@127.0.0.1:1/nowhere" in res.stderr


def test_a_password_is_never_printed(tmp_path: Path) -> None:
    cfg = _config(tmp_path, "postgresql://postgres:hunter2secret@127.0.0.1:1/x")
    res = _migrate(cfg)
    assert res.returncode == 1 and "cannot connect to postgresql://postgres@127.0.0.1:1/x" in res.stderr
    env = {**os.environ, "POSTGRES_PASSWORD": "envsecret77"}
    res2 = _migrate(_config(tmp_path, "postgresql://postgres@127.0.0.1:1/x"), env=env)
    assert res2.returncode == 1
    out = res.stdout + res.stderr + res2.stdout + res2.stderr
    assert "hunter2secret" not in out and "envsecret77" not in out
    settings = PostgresSettings(dsn="postgresql://u:hunter2secret@h:5/d")
    assert "hunter2secret" not in repr(settings) + str(settings.model_dump()) + settings.model_dump_json()
    assert settings.resolved_password() is not None
    assert settings.resolved_password().get_secret_value() == "hunter2secret"  # type: ignore[union-attr]


def test_a_password_in_the_dsn_query_is_never_printed(tmp_path: Path) -> None:
    """libpq and asyncpg also read ``?password=``: it leaves the DSN like ``user:password@``."""
    cfg = _config(tmp_path, "postgresql://postgres@127.0.0.1:1/x?sslmode=disable&password=qsecret99")
    res = _migrate(cfg)
    assert res.returncode == 1
    assert "cannot connect to postgresql://postgres@127.0.0.1:1/x?sslmode=disable:" in res.stderr
    assert "qsecret99" not in res.stdout + res.stderr
    settings = PostgresSettings(dsn="postgresql://u@h:5/d?password=qsecret99&application_name=a")
    assert settings.dsn == "postgresql://u@h:5/d?application_name=a"
    assert settings.resolved_password().get_secret_value() == "qsecret99"  # type: ignore[union-attr]
    both = PostgresSettings(dsn="postgresql://u:first@h:5/d?password=qsecret99")
    assert both.dsn == "postgresql://u@h:5/d" and "qsecret99" not in repr(both)
