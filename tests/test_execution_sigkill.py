"""SIGKILL at chosen points of an episode, restart, reconcile: checked against the emulators' ground truth.

The emulators (two Binance venues) run in this test process; the trading process is a real
child process (``tests/helpers/execution_child.py``) stopped at a chosen point -- after leg A's
intent, after leg A's fill, between the legs, while leg B (answer lost) is looked up, after the
episode ended HELD -- and killed with SIGKILL. A second process then reconciles the journal with
the venues and resolves every open or HELD episode per policy (complete, unwind, or report)
before trading may resume. Expected: no client id ever placed twice, every order resolved, the
journal's positions equal the venues' balances, the episode completed, unwound to flat, or held
with its residual exposure reported.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from arbot.execution.journal import JournalStore, SqliteJournal, replay_positions
from arbot.execution.killswitch import RECONCILE_FLAG
from arbot.testing.emulator.exchange_faults import FaultKind

pytest.importorskip("arbot_binance")
from arbot_binance.emulator import BinanceEmulator

CHILD = Path(__file__).parent / "helpers" / "execution_child.py"
SYMBOL = "BTC/USDT"
START = {"USDT": "1000000", "BTC": "2"}


async def _child(*args: str, kill_on_pause: bool) -> tuple[int, list[str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), 30.0)
        if not raw:
            break
        line = raw.decode().strip()
        lines.append(line)
        if line == "PAUSED" and kill_on_pause:
            proc.send_signal(signal.SIGKILL)
            break
    rc = await asyncio.wait_for(proc.wait(), 30.0)
    if rc not in (0, -signal.SIGKILL):
        err = await proc.stderr.read() if proc.stderr else b""
        raise AssertionError(f"child failed rc={rc}: {err.decode()[-2000:]}")
    return rc, lines


# HTTP_5XX lets two signed requests of b pass (the gateway's start-up, the order) and answers
# the gateway's own lookup of the lost answer (and the REST client's two retries) with 503
LOST_B = ((FaultKind.ACK_LOST, 1, 0), (FaultKind.HTTP_5XX, 3, 2))
REJECT_B = ((FaultKind.REJECT_BALANCE, 1, 0),)
HELD_A = [["a", "BTC", pytest.approx(0.01 * 0.999)]]  # leg A's buy, net of Binance's fee in BTC
DUST_B = [["b", "BTC", pytest.approx(-0.01 * 0.001)]]  # balanced but for that fee: reported as dust


@pytest.mark.parametrize(
    ("pause", "policy", "fault_b", "venue_orders", "episode", "residuals"),
    [
        ("after-intent", "retry,unwind", (), {"a": 0, "b": 0}, "MISSED", []),
        # legs go out together: B was sent while A's answer was pending, so both filled
        ("after-fill", "retry,unwind", (), {"a": 1, "b": 1}, "DONE", DUST_B),
        # one-sided at the crash: the restarted process unwinds leg A on its venue
        ("between-legs", "retry,unwind", (), {"a": 2, "b": 0}, "UNWOUND", []),
        # leg B's answer lost (and the gateway's own lookup answered 503): the process died while
        # the order manager looked it up -- found filled at the restart -> completed
        ("lookup", "retry,unwind", LOST_B, {"a": 1, "b": 1}, "DONE", DUST_B),
        # HELD at the crash (policy hold, B refused): a restart under an unwind policy unwinds it
        ("held", "hold", REJECT_B, {"a": 2, "b": 0}, "UNWOUND", []),
        # ... and under the hold policy reports it again, exposure and all
        ("held", "hold/hold", REJECT_B, {"a": 1, "b": 0}, "HELD", HELD_A),
    ],
)
def test_sigkill_then_restart_reconciles_against_the_emulators(
    tmp_path, pause, policy, fault_b, venue_orders, episode, residuals
):
    path = tmp_path / "execution.sqlite"
    _sigkill_and_reconcile(
        pause, policy, fault_b, venue_orders, episode, residuals,
        ["--journal", str(path)], lambda: SqliteJournal(path),
    )  # fmt: skip


def test_sigkill_between_the_legs_with_the_postgres_journal(tmp_path):
    """The same crash with the write-ahead journal in PostgreSQL (``[executor] journal = "postgres"``):
    the restarted process finds leg A filled and leg B's intent never sent, and unwinds leg A."""
    pytest.importorskip("arbot_postgres")
    from arbot_postgres.journal import PostgresJournal
    from arbot_postgres.settings import PostgresSettings
    from arbot_postgres.testing import SERVER, admin

    name = f"arbot_stores_sigkill_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin(f"CREATE DATABASE {name}"))
    dsn = f"{SERVER}/{name}"
    try:
        _sigkill_and_reconcile(
            "between-legs", "retry,unwind", (), {"a": 2, "b": 0}, "UNWOUND", [],
            ["--journal", "sigkill-bot", "--pg-dsn", dsn],
            lambda: PostgresJournal(PostgresSettings(dsn=dsn), "sigkill-bot"),
        )  # fmt: skip
        # the killed process had journaled leg B's intent, never sent: now settled, none open
        states = {str(r[0]): str(r[1]) for r in _pg_rows(dsn, "SELECT purpose, status FROM exec_orders")}
        assert states["leg0"] == "FILLED" and states["leg1"] == "REJECTED", states
        assert not set(states.values()) & {"PENDING_NEW", "NEW", "PARTIALLY_FILLED", "UNKNOWN"}, states
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _pg_rows(dsn: str, sql: str) -> list[tuple[object, ...]]:
    from arbot_postgres.testing import query

    return [tuple(r) for r in query(dsn, sql)]


def _sigkill_and_reconcile(
    pause: str,
    policy: str,
    fault_b: tuple[tuple[FaultKind, int, int], ...],
    venue_orders: dict[str, int],
    episode: str,
    residuals: list[list[object]],
    journal_args: list[str],
    open_journal: Callable[[], JournalStore],
) -> None:
    trade_policy, _, restart_policy = policy.partition("/")
    restart_policy = restart_policy or "retry,unwind"

    async def go() -> None:
        async with (
            BinanceEmulator((SYMBOL,), seed=5, tick_interval=None) as ea,
            BinanceEmulator((SYMBOL,), seed=9, tick_interval=None) as eb,
        ):
            emus = {"a": ea, "b": eb}
            venue_args: list[str] = []
            keys = {}
            for name, emu in emus.items():
                acct = emu.private.create_account(dict(START))
                keys[name] = acct.api_key
                venue_args += ["--venue", name, emu.http_url, acct.api_key, acct.secret]
            for kind, count, skip in fault_b:
                eb.private.exchange.faults.inject(kind, count=count, skip=skip)
            ask = ea.true_book(SYMBOL).best_ask
            bid = eb.true_book(SYMBOL).best_bid
            rc, log_lines = await _child(
                "trade",
                *journal_args,
                *venue_args,
                "--pause",
                pause,
                "--policy",
                trade_policy,
                "--ask",
                str(ask),
                "--bid",
                str(bid),
                kill_on_pause=True,
            )
            assert rc == -signal.SIGKILL
            rc, lines = await _child(
                "reconcile",
                *journal_args,
                *venue_args,
                "--policy",
                restart_policy,
                kill_on_pause=False,
            )
            assert rc == 0
            rep = json.loads(lines[-1])
            assert rep["ready"] and rep["episodes"] == {"crash-1": episode}, (rep, log_lines)
            assert all(s not in ("UNKNOWN", "PENDING_NEW") for s in rep["resolved"].values())
            truth: dict[tuple[str, str], float] = {}
            for name, emu in emus.items():
                ex = emu.private.exchange
                counts: dict[str, int] = {}
                for o in ex.orders.values():
                    counts[o.client_id] = counts.get(o.client_id, 0) + 1
                assert all(n == 1 for n in counts.values())  # no double order
                assert len(counts) == venue_orders[name]
                for asset, (free, locked) in ex.balances(keys[name]).items():
                    d = float(free + locked - Decimal(START.get(asset, "0")))
                    if abs(d) > 1e-12:
                        truth[(name, asset)] = d
            journal = open_journal()
            try:
                got = replay_positions(journal.fills())
                log = journal.transitions()
                flags = journal.flags()
            finally:
                journal.close()
            keys_all = {k for k, q in got.items() if abs(q) > 1e-9} | set(truth)
            for k in keys_all:
                assert got.get(k, 0.0) == pytest.approx(truth.get(k, 0.0), abs=1e-8), (k, got, truth)
            assert rep["residuals"] == residuals
            # trading stayed refused until the episode was resolved: the flag was set before the
            # episode's last transition and cleared only after it
            marks = [
                (t.entity, t.state)
                for t in log
                if (t.entity == "flag" and t.key == RECONCILE_FLAG) or t.key == "crash-1"
            ]
            last_episode = max(i for i, m in enumerate(marks) if m == ("episode", episode))
            assert ("flag", "SET") in marks[:last_episode]
            assert marks[-1] == ("flag", "CLEARED") and RECONCILE_FLAG not in flags
            if episode == "UNWOUND":
                assert abs(truth.get(("a", "BTC"), 0.0)) < 1e-12  # flat on the emulator's books

    asyncio.run(asyncio.wait_for(go(), 90.0))
