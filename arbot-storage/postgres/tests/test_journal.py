"""The PostgreSQL execution journal: the journal contract on SQLite and PostgreSQL side by side,
scopes, the schema guard, the bot's configuration, and a server stopped under live execution.

Every PostgreSQL database here is created for its test (``arbot_stores_journal_*``) on the shared
server and dropped after it; the test that stops a server runs its own private cluster.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.errors import ConfigError
from arbot.events import BookUpdate
from arbot.execution.executors import BacktestExecutor
from arbot.execution.journal import EpisodeRecord, JournalError, SqliteJournal
from arbot.testing.execution import World
from arbot.testing.journal_conformance import JournalConformance, Opener
from arbot_postgres.journal import PostgresJournal
from arbot_postgres.settings import PostgresSettings
from arbot_postgres.testing import SERVER, PrivateServer, admin, query


@pytest.fixture
def journal_dsn() -> Iterator[str]:
    """A database of its own for this test (named for the ``stores`` helper), dropped after it."""
    name = f"arbot_stores_journal_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(admin(f"CREATE DATABASE {name}"))
    except OSError as exc:
        pytest.fail(f"PostgreSQL is not running on 127.0.0.1:5432 ({exc}); .ci/run starts it")
    yield f"{SERVER}/{name}"
    asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _settings(dsn: str, **kw: object) -> PostgresSettings:
    return PostgresSettings(dsn=dsn, connect_timeout_s=3.0, command_timeout_s=5.0, **kw)  # type: ignore[arg-type]


class TestJournalContract(JournalConformance):
    """The whole journal contract, once on ``execution.sqlite`` and once on PostgreSQL."""

    @pytest.fixture(params=["sqlite", "postgres"])
    def open_journal(self, request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
        if request.param == "sqlite":
            return lambda: SqliteJournal(tmp_path / "execution.sqlite")
        dsn = request.getfixturevalue("journal_dsn")
        return lambda: PostgresJournal(_settings(dsn), "bot-1")


def test_two_bots_sharing_a_database_never_see_each_others_journal(journal_dsn: str) -> None:
    mine, theirs = (
        PostgresJournal(_settings(journal_dsn), "bot-1"),
        PostgresJournal(_settings(journal_dsn), "bot-2"),
    )
    try:
        w = World(journal=mine)
        w.journal.put_episode(EpisodeRecord("ep1", "opp-1", "spatial", "SENDING", "legs sent", 1000.0))
        w.run(w.machine.run("opp-1", w.opportunity()))
        mine.set_flag("kill", "operator")
        assert mine.orders() and mine.fills() and mine.transitions() and mine.flags()
        assert theirs.orders() == [] and theirs.fills() == [] and theirs.episodes() == []
        assert theirs.transitions() == [] and theirs.flags() == {}
    finally:
        mine.close()
        theirs.close()


def test_each_write_is_committed_with_synchronous_commit_on(journal_dsn: str) -> None:
    # a database configured to acknowledge commits before their WAL is on disk: the journal's
    # own session must still run with synchronous_commit = on
    name = journal_dsn.rsplit("/", 1)[1]
    asyncio.run(admin(f"ALTER DATABASE {name} SET synchronous_commit = off"))
    assert query(journal_dsn, "SHOW synchronous_commit")[0][0] == "off"
    j = PostgresJournal(_settings(journal_dsn), "bot-1")
    try:
        j.set_flag("probe", "x")
        # asks the journal's own connection (the setting is per session)
        assert j._call(lambda c: c.fetchval("SHOW synchronous_commit"), "read") == "on"
    finally:
        j.close()


def test_a_database_newer_than_the_code_is_refused(journal_dsn: str) -> None:
    PostgresJournal(_settings(journal_dsn), "bot-1").close()
    query(journal_dsn, "INSERT INTO arbot_schema_migrations (version, name) VALUES (99, 'from the future')")
    with pytest.raises(JournalError, match="version 99, newer than this arbot-postgres knows"):
        PostgresJournal(_settings(journal_dsn), "bot-1")


def test_an_unreachable_server_is_a_journal_error_naming_it() -> None:
    with pytest.raises(
        JournalError, match=r"cannot open the execution journal postgresql://postgres@127\.0\.0\.1:1/x"
    ) as err:
        PostgresJournal(_settings("postgresql://postgres:s3cret@127.0.0.1:1/x"), "bot-1")
    assert "s3cret" not in str(err.value)


def _backtest_config(tmp_path: Path, dsn: str, journal: str) -> dict[str, object]:
    return {
        "symbols": ["BTC/USDT"],
        "output_dir": str(tmp_path / "out"),
        "system": {"execution_mode": "backtest"},
        "exchanges": {"enabled": ["a", "b"]},
        "source": {"name": "simulator", "simulator": {"venues": ["a", "b"], "duration_s": 120}},
        "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.25, "min_depth_usd": 100}},
        "executor": {"latency_ms": 50, "journal": journal},
        "portfolio": {"initial": {"USDT": 100_000, "BTC": 2.0}},
        "risk": {
            "max_position_per_coin_usd": 1e6,
            "max_position_per_exchange_usd": 1e6,
            "max_total_exposure_usd": 1e6,
        },
        "sinks": {"enabled": [], "postgres": {"dsn": dsn, "journal_scope": "research-1"}},
    }


def _book(ts: float, venue: str, bid: float, ask: float) -> BookUpdate:
    return BookUpdate(ts, venue, "BTC/USDT", [(bid, 1.0)], [(ask, 1.0)], True, ts)


def test_executor_journal_postgres_is_the_plugins_store(tmp_path: Path, journal_dsn: str) -> None:
    bot = Bot(config_from_dict(_backtest_config(tmp_path, journal_dsn, "postgres")), mode="backtest")
    ex = bot.executor
    assert isinstance(ex, BacktestExecutor)
    assert isinstance(ex.journal, PostgresJournal) and ex.journal.scope == "research-1"
    events = []
    for i in range(3):  # three dislocations: b's bid 0.67 % above a's ask, then the books calm
        t = 1000.0 + 10 * i
        events += [
            _book(t, "a", 59_990.0, 60_000.0),
            _book(t + 0.01, "b", 60_400.0, 60_410.0),
            _book(t + 0.07, "a", 59_990.0, 60_000.0),
            _book(t + 1.0, "b", 59_995.0, 60_005.0),
        ]
    summary = bot.run_backtest(events=events)
    assert summary["exit_code"] == 0, summary
    episodes = query(journal_dsn, "SELECT count(*) FROM exec_episodes WHERE scope = 'research-1'")[0][0]
    assert summary["executed"] > 0 and episodes == summary["executed"] + summary["missed"]
    intents = query(journal_dsn, "SELECT count(*) FROM exec_orders WHERE scope = 'research-1'")[0][0]
    assert intents >= 2 * summary["executed"]


def test_an_unknown_journal_is_a_config_error(tmp_path: Path, journal_dsn: str) -> None:
    with pytest.raises(ConfigError, match="journal = 'mongo': no installed plugin provides that journal"):
        Bot(config_from_dict(_backtest_config(tmp_path, journal_dsn, "mongo")), mode="backtest")


def test_server_stopped_under_execution_sends_no_order_without_its_intent(
    private_pg: PrivateServer,
) -> None:
    """PostgreSQL stops between two episodes: the next order's intent cannot be committed, so the
    episode fails with JournalError and the venue receives nothing; once the server is back, a
    restarted bot reconciles from the journal with nothing left open."""
    j = PostgresJournal(_settings(private_pg.dsn), "bot-1")
    w = World(journal=j)
    assert w.run(w.machine.run("opp-1", w.opportunity())).state == "DONE"
    sent = {v: s.orders_received for v, s in w.sims.items()}
    assert sent == {"a": 1, "b": 1}
    private_pg.stop()
    with pytest.raises(JournalError, match="cannot write the execution journal"):
        w.run(w.machine.run("opp-2", w.opportunity(oid="opp-2")))
    assert {v: s.orders_received for v, s in w.sims.items()} == sent  # nothing left unjournaled
    with pytest.raises(JournalError):  # still down: every call says so, none pretends
        j.flags()
    private_pg.start()
    j.close()
    w2 = World(journal=PostgresJournal(_settings(private_pg.dsn), "bot-1"), market=w.market, sims=w.sims,
               runtime=w.rt, run_id="run2")  # fmt: skip
    try:
        from arbot.execution.reconcile import Reconciler

        rep = w2.run(Reconciler(w2.journal, w2.manager, w2.kill, w2.rt).run())
        assert rep.ready and rep.still_unknown == []
        assert w2.journal.orders(open_only=True) == []
        assert {v: s.orders_received for v, s in w.sims.items()} == sent
        # the client ids the venues saw are exactly the journal's intents
        journaled = {o.client_id for o in w2.journal.orders()}
        seen = {f.client_id for s in w.sims.values() for f in s.all_fills()}
        assert seen <= journaled
    finally:
        w2.journal.close()


def test_arbot_stop_engages_the_kill_switch_in_the_postgres_journal(tmp_path: Path, journal_dsn: str) -> None:
    """``arbot stop CONFIG`` of a live bot whose journal is PostgreSQL sets the kill flag where
    that bot reads it (it looked only for execution.sqlite: "no execution journal", nothing set);
    --clear clears it; the DSN's password is not printed."""
    import subprocess
    import sys

    host, db = journal_dsn.rsplit("/", 1)
    dsn = host.replace("postgres@", "postgres:stopsecret42@") + f"/{db}"
    cfg = tmp_path / "live.toml"
    cfg.write_text(
        f'output_dir = "{tmp_path / "run"}"\nsymbols = ["BTC/USDT"]\n[system]\nexecution_mode = "live"\n'
        '[exchanges]\nenabled = ["binance", "okx"]\n[source]\nname = "live"\n'
        '[executor]\nlive_trading_opt_in = true\njournal = "postgres"\n'
        f'[sinks.postgres]\ndsn = "{dsn}"\njournal_scope = "stop-1"\n'
    )

    def stop(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "arbot", "stop", str(cfg), *args],
                              capture_output=True, text=True, timeout=60)

    res = stop("--reason", "operator test")
    assert res.returncode == 0 and "kill switch engaged in the postgres journal" in res.stdout, res.stderr
    journal = PostgresJournal(_settings(journal_dsn), "stop-1")
    try:
        assert journal.flags() == {"kill_switch": "operator test"}
        cleared = stop("--clear")
        assert cleared.returncode == 0 and "kill switch cleared" in cleared.stdout, cleared.stderr
        assert journal.flags() == {}
    finally:
        journal.close()
    assert "stopsecret42" not in res.stdout + res.stderr + cleared.stdout + cleared.stderr
