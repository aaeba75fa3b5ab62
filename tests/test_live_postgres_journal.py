"""Live execution with the write-ahead journal in PostgreSQL, and that server stopped mid-run.

A live bot (``[executor] journal = "postgres"``) trades on three venue emulators running in this
process (real signed orders over loopback). Once it has journaled episodes, its PostgreSQL server
-- a private cluster, never the shared one -- is stopped. Expected: the run ends with a
:class:`~arbot.execution.journal.JournalError` naming the journal (never silently, never going on
unjournaled), and every order any venue ever received has its intent in the journal.
"""

from __future__ import annotations

import asyncio
import sys
import time
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("arbot_binance")
pytest.importorskip("arbot_okx")
pytest.importorskip("arbot_bybit")
pytest.importorskip("arbot_postgres")
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.execution.journal import JournalError
from arbot_postgres.testing import PrivateServer, query

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from live_venues import CONNECTORS, Venues

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "live_emulated.toml"
SCOPE = "live-pg-1"


@pytest.fixture
def private_pg():
    server = PrivateServer()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


def test_postgres_stopped_under_live_execution_halts_trading_and_nothing_was_sent_unjournaled(
    tmp_path: Path, private_pg: PrivateServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    venues = Venues()
    dsn = private_pg.dsn

    def journaled(sql: str) -> int:
        return int(query(dsn, sql)[0][0])

    async def go() -> tuple[BaseException | None, dict[str, object]]:
        await venues.start()
        try:
            for k, v in venues.env().items():
                monkeypatch.setenv(k, v)
            data = tomllib.loads(EXAMPLE.read_text())
            data["output_dir"] = str(tmp_path / "run")
            data["source"]["live"]["emulate"] = False
            data["connectors"] = {v: CONNECTORS[v].emulated_settings(e) for v, e in venues.emulators.items()}
            data["executor"]["journal"] = "postgres"
            data["executor"]["kill_check_interval_s"] = 0.2
            data["sinks"]["postgres"] = {
                "dsn": dsn, "journal_scope": SCOPE, "connect_timeout_s": 2.0, "command_timeout_s": 3.0,
            }  # fmt: skip
            bot = Bot(config_from_dict(data))
            run = asyncio.ensure_future(bot.arun(duration_s=90.0))
            deadline = time.monotonic() + 45.0
            while time.monotonic() < deadline and not run.done():
                await asyncio.sleep(0.5)
                sql = "SELECT count(*) FROM exec_episodes WHERE state = 'DONE'"
                if await asyncio.to_thread(journaled, sql) >= 1:
                    break
            assert not run.done(), "the run ended before PostgreSQL was stopped"
            await asyncio.to_thread(private_pg.stop)
            failure: BaseException | None = None
            try:
                await asyncio.wait_for(run, 60.0)
            except JournalError as exc:
                failure = exc
            return failure, bot.summary
        finally:
            await venues.stop()

    failure, summary = asyncio.run(asyncio.wait_for(go(), 180.0))
    assert isinstance(failure, JournalError), f"the run went on without its journal: {summary}"
    assert "execution journal" in str(failure) and "postgresql://postgres@127.0.0.1" in str(failure)
    assert summary["exit_code"] == 1 and "JournalError" in str(summary["failure"])
    private_pg.start()
    intents = {str(r[0]) for r in query(dsn, "SELECT client_id FROM exec_orders WHERE scope = $1", SCOPE)}
    placed = 0
    for venue in CONNECTORS:
        for order in venues.orders(venue):
            placed += 1
            cid = order.client_id  # type: ignore[attr-defined]
            assert cid in intents, f"{venue} received {cid}, whose intent the journal never committed"
    assert placed > 0, "no order reached a venue before the server stopped"
