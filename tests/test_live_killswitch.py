"""The kill switch of a live bot, against the venue emulators' ground truth.

A live bot (the example configuration, pointed at three emulators running in this process with
keys from the environment) rests a GTC order on every venue through its own order manager. Then:

* ``arbot stop RUN_DIR`` from another process: the running bot cancels every one of them (no
  open order left at any venue), places no new order, and after a restart the switch is still in
  force (no new venue order) until ``arbot stop --clear``;
* the circuit breaker with ``[risk.circuit_breaker] kill_switch = true``: a trip engages
  ``KillSwitch.engage`` and the resting orders are cancelled;
* ``arbot run --kill-on-sigterm``: SIGTERM leaves the kill flag set in ``execution.sqlite``.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

pytest.importorskip("arbot_binance")
pytest.importorskip("arbot_okx")
pytest.importorskip("arbot_bybit")
sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from arbot.bot import Bot
from arbot.config import load_config
from arbot.events import ExecutionReport, Fill, FillStatus, Leg, Opportunity, Side
from arbot.execution.executors import LiveExecutor
from arbot.execution.journal import SqliteJournal
from arbot.trading import OrderRequest, OrderType
from live_venues import Venues

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "live_emulated.toml"
ARBOT = [sys.executable, "-m", "arbot.cli"]


def kill_flag(out: Path) -> str | None:
    db = sqlite3.connect(str(out / "execution.sqlite"))
    try:
        row = db.execute("SELECT value FROM exec_flags WHERE name = 'kill_switch'").fetchone()
    finally:
        db.close()
    return None if row is None else str(row[0])


async def until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def arbot(*args: str, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *ARBOT, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env
    )
    so, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, so.decode()


class LiveBot:
    """A live bot running in this event loop on ``venues``, output in ``out``."""

    def __init__(self, venues: Venues, out: Path, *extra: str) -> None:
        cfg = load_config(EXAMPLE, [*venues.overrides(), f"output_dir={out}", *extra])
        self.bot = Bot(cfg)
        assert isinstance(self.bot.executor, LiveExecutor)
        self.executor: LiveExecutor = self.bot.executor
        self.stop = asyncio.Event()
        self.task: asyncio.Task[dict[str, object]] | None = None

    async def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.bot.arun(self.stop))
        ex = self.executor
        await until(lambda: ex.reconciled is not None and ex.reconciled.done(), "the executor's start-up")
        assert ex.reconciled is not None and ex.reconciled.result().ready

    async def rest_orders(self) -> None:
        """One GTC buy far below the market on every venue, through the bot's own order manager."""
        ex = self.executor
        for venue, gw in ex.gateways.items():
            cid = gw.new_client_id()
            req = OrderRequest(venue, "BTC/USDT", Side.BUY, OrderType.LIMIT, 0.01, cid, 50_000.0)
            order = await ex.manager.submit(req, "manual-rest", "rest")
            assert order.status.value == "NEW", (venue, order.status)

    async def finish(self) -> dict[str, object]:
        self.stop.set()
        assert self.task is not None
        return await asyncio.wait_for(self.task, 60)


def with_venues(monkeypatch: pytest.MonkeyPatch, main: Callable[[Venues], Awaitable[None]]) -> None:
    async def go() -> None:
        venues = Venues()
        await venues.start()
        try:
            for k, v in venues.env().items():
                monkeypatch.setenv(k, v)
            await main(venues)
        finally:
            await venues.stop()

    asyncio.run(asyncio.wait_for(go(), 180))


def test_arbot_stop_cancels_every_open_order_and_survives_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"

    async def main(venues: Venues) -> None:
        live = LiveBot(venues, out)
        await live.start()
        await live.rest_orders()
        assert venues.open_orders() == {"binance": 1, "okx": 1, "bybit": 1}
        code, text = await arbot("stop", str(out), "--reason", "operator test", env=venues.env())
        assert code == 0, text
        assert "kill switch engaged" in text
        await until(lambda: not any(venues.open_orders().values()), "every venue order cancelled")
        placed = {v: len(venues.orders(v)) for v in venues.emulators}
        await asyncio.sleep(2.0)  # opportunities keep coming: none may reach a venue
        assert {v: len(venues.orders(v)) for v in venues.emulators} == placed
        summary = await live.finish()
        assert summary["exit_code"] == 0, summary
        assert kill_flag(out) == "operator test"

        restarted = LiveBot(venues, out)
        assert restarted.executor.kill.engaged  # still in force after the restart
        await restarted.start()
        await asyncio.sleep(2.0)
        assert {v: len(venues.orders(v)) for v in venues.emulators} == placed
        await restarted.finish()

        code, text = await arbot("stop", str(out), "--clear", env=venues.env())
        assert code == 0 and "cleared" in text, text
        assert kill_flag(out) is None

    with_venues(monkeypatch, main)


def test_arbot_stop_needs_a_live_run(tmp_path: Path) -> None:
    async def go() -> tuple[int, str]:
        return await arbot("stop", str(tmp_path), env={"PATH": "/usr/bin:/bin"})

    code, text = asyncio.run(go())
    assert code == 2 and "no execution journal" in text


def test_arbot_stop_finds_the_journal_through_the_configuration(tmp_path: Path) -> None:
    run_dir = tmp_path / "out"
    SqliteJournal(run_dir / "execution.sqlite").close()
    cfg = tmp_path / "bot.toml"
    cfg.write_text('output_dir = "out"\nsymbols = ["BTC/USDT"]\n[exchanges]\nenabled = ["binance"]\n')

    env = {"PATH": "/usr/bin:/bin"}
    code, text = asyncio.run(arbot("stop", str(cfg), "--reason", "maintenance", env=env))
    assert code == 0 and "maintenance" in text, text
    assert kill_flag(run_dir) == "maintenance"
    code, text = asyncio.run(arbot("stop", str(cfg), "--clear", env=env))
    assert code == 0 and "cleared" in text, text
    assert kill_flag(run_dir) is None


def losing_report(ts: float) -> ExecutionReport:
    """An executed episode that lost money (as the circuit breaker sees reports)."""
    legs = (
        Leg("binance", "BTC/USDT", Side.BUY, 60_000.0, 0.01),
        Leg("okx", "BTC/USDT", Side.SELL, 60_100.0, 0.01),
    )
    opp = Opportunity("loss-1", ts, "spatial", "BTC/USDT", legs, 0.2, 0.1, 1.0)
    fill = Fill(
        "loss-1", "binance", "BTC/USDT", Side.BUY, "IOC", 0.01, 60_000.0, 0.01, 60_500.0, 0.6, "USDT",
        FillStatus.FILLED, ts, 0.0, "LIVE",
    )
    return ExecutionReport(opp, (fill,), ts, -5.0, 0.6, "", 1.0, "DONE")


def test_circuit_breaker_trip_engages_the_kill_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"

    async def main(venues: Venues) -> None:
        live = LiveBot(
            venues, out, "risk.circuit_breaker.kill_switch=true", "risk.consecutive_loss_limit=1"
        )
        await live.start()
        await live.rest_orders()
        assert sum(venues.open_orders().values()) == 3
        breaker = next(r for r in live.bot.risk_rules if r.name == "circuit_breaker")
        breaker.on_report(losing_report(time.time()))
        await until(lambda: not any(venues.open_orders().values()), "every venue order cancelled")
        assert (kill_flag(out) or "").startswith("circuit breaker")
        assert live.executor.kill_applied is not None
        await live.finish()

    with_venues(monkeypatch, main)


def test_sigterm_with_the_flag_engages_the_kill_switch(tmp_path: Path) -> None:
    out = tmp_path / "run"

    async def main() -> tuple[int, str]:
        venues = Venues()
        await venues.start()
        try:
            args = [a for o in venues.overrides() for a in ("--set", o)]
            proc = await asyncio.create_subprocess_exec(
                *ARBOT, "run", str(EXAMPLE), "--kill-on-sigterm", "--output-dir", str(out), *args,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=venues.env(),
            )
            await until(lambda: (out / "execution.sqlite").exists(), "the live run's journal", 60)
            await asyncio.sleep(3.0)
            proc.send_signal(signal.SIGTERM)
            so, _ = await asyncio.wait_for(proc.communicate(), 60)
            assert not any(venues.open_orders().values())
            return proc.returncode or 0, so.decode()
        finally:
            await venues.stop()

    code, text = asyncio.run(main())
    assert code == 0, text
    assert kill_flag(out) == "SIGTERM"
