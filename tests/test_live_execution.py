"""Live execution end to end against the venue emulators, offline, over loopback sockets.

* ``arbot run examples/live_emulated.toml`` (a real subprocess, emulators inside it): every
  episode reaches a closed state in ``execution.sqlite`` and is the signal of the same id in
  ``journal.sqlite``, with the same orders and filled quantities.
* The same configuration trading on emulators that run in *this* process (``emulate = false``,
  the connectors pointed at them, keys from ``BINANCE_API_KEY``... in the environment): the
  emulators' ground truth -- every order each account ever placed -- equals the journal's.
* Both opt-ins are needed.

Nothing is mocked: the emulators are the venues' private and public APIs on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("arbot_binance")
pytest.importorskip("arbot_okx")
pytest.importorskip("arbot_bybit")
sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from live_venues import CONNECTORS, Venues, live_env

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "live_emulated.toml"
ARBOT = [sys.executable, "-m", "arbot.cli"]
OPEN_STATUSES = {"PENDING_NEW", "NEW", "PARTIALLY_FILLED", "UNKNOWN"}
SAME_END = {"EXPIRED": "CANCELLED"}
CLOSED_EPISODES = {"DONE", "MISSED", "UNWOUND", "HEDGED", "HELD", "HALTED", "BLOCKED"}


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(str(path))
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def check_journals(out: Path) -> dict[str, list[tuple[object, ...]]]:
    """execution.sqlite against journal.sqlite; returns the journal's orders per venue."""
    ex, jr = out / "execution.sqlite", out / "journal.sqlite"
    episodes = dict(rows(ex, "SELECT episode_id, state FROM exec_episodes"))
    assert episodes, "no episode was journaled"
    assert set(episodes.values()) <= CLOSED_EPISODES, episodes
    assert "DONE" in episodes.values(), "no episode completed"
    orders = rows(ex, "SELECT client_id, episode_id, venue, status, filled, order_id FROM exec_orders")
    assert not [o for o in orders if o[3] in OPEN_STATUSES], "an order was left open or unknown"
    signals = dict(rows(jr, "SELECT id, status FROM arbitrage_signals"))
    for eid, state in episodes.items():
        # an episode where nothing filled (MISSED, BLOCKED) is a missed signal; the others executed
        expected = "MISSED" if state in ("MISSED", "BLOCKED") else "EXECUTED"
        assert signals.get(eid) == expected, f"episode {eid} ({state}): signal {signals.get(eid)}"
    trades: dict[str, list[tuple[str, float]]] = {}
    for sid, venue, filled in rows(jr, "SELECT signal_id, exchange, filled_qty FROM trades"):
        trades.setdefault(str(sid), []).append((str(venue), round(float(filled), 9)))  # type: ignore[arg-type]
    for eid, state in episodes.items():
        if state == "BLOCKED":
            continue
        mine = sorted((str(o[2]), round(float(o[4]), 9)) for o in orders if o[1] == eid)  # type: ignore[arg-type]
        assert sorted(trades.get(eid, [])) == mine, f"episode {eid}: journal.sqlite trades differ"
    by_venue: dict[str, list[tuple[object, ...]]] = {}
    for o in orders:
        by_venue.setdefault(str(o[2]), []).append(o)
    return by_venue


def test_live_emulated_example_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "run"

    async def go() -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            *ARBOT, "run", str(EXAMPLE), "--duration", "8", "--output-dir", str(out),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=live_env(), cwd=tmp_path,
        )
        so, se = await asyncio.wait_for(proc.communicate(), 120)
        return proc.returncode or 0, so.decode(), se.decode()

    code, stdout, stderr = asyncio.run(go())
    assert code == 0, stdout + stderr
    assert "episodes" in stdout
    check_journals(out)


def test_live_needs_the_environment_opt_in(tmp_path: Path) -> None:
    async def go() -> tuple[int, str]:
        env = live_env()
        env.pop("ARBOT_LIVE_TRADING")
        proc = await asyncio.create_subprocess_exec(
            *ARBOT, "run", str(EXAMPLE), "--duration", "2", "--output-dir", str(tmp_path / "r"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env, cwd=tmp_path,
        )
        so, _ = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode or 0, so.decode()

    code, text = asyncio.run(go())
    assert code != 0 and "ARBOT_LIVE_TRADING=1" in text


def test_live_run_matches_the_venues_ground_truth(tmp_path: Path) -> None:
    out = tmp_path / "run"
    venues = Venues()

    async def go() -> tuple[int, str]:
        await venues.start()
        try:
            args = [a for o in venues.overrides() for a in ("--set", o)]
            proc = await asyncio.create_subprocess_exec(
                *ARBOT, "run", str(EXAMPLE), "--duration", "8", "--output-dir", str(out), *args,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=venues.env(),
                cwd=tmp_path,
            )
            so, _ = await asyncio.wait_for(proc.communicate(), 120)
            return proc.returncode or 0, so.decode()
        finally:
            await venues.stop()

    code, text = asyncio.run(go())
    assert code == 0, text
    for secret in (k[1] for k in venues.keys.values()):
        assert secret not in text
    journal = check_journals(out)
    placed_anywhere = 0
    for venue in CONNECTORS:
        truth = {o.client_id: o for o in venues.orders(venue)}  # type: ignore[attr-defined]
        placed_anywhere += len(truth)
        sent = {str(o[0]): o for o in journal.get(venue, []) if o[5]}  # the venue gave an order id
        assert set(truth) == set(sent), f"{venue}: venue orders and journal orders differ"
        for cid, o in truth.items():
            j = sent[cid]
            assert o.status.value not in OPEN_STATUSES, f"{venue} {cid} still open at the venue"
            assert o.filled == Decimal(repr(j[4])) or abs(float(o.filled) - float(j[4])) < 1e-12, cid  # type: ignore[arg-type]
            # an IOC's expired remainder is "canceled" on the OKX and Bybit wire: the same end
            venue_status, journal_status = (SAME_END.get(x, x) for x in (o.status.value, str(j[3])))
            assert venue_status == journal_status, f"{venue} {cid}: venue {o.status.value}, journal {j[3]}"
    assert placed_anywhere > 0, "the live run never reached a venue"


def test_a_live_run_trades_binance_through_ccxt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``[connectors.binance] connector = "ccxt"``: market data and trading of that venue go through
    ccxt (its TradingGateway), the other venues through their native connectors; the Binance
    emulator's orders are the journal's."""
    import tomllib

    from arbot.bot import Bot
    from arbot.config import config_from_dict

    venues = Venues()

    async def go() -> dict[str, object]:
        await venues.start()
        try:
            for k, v in venues.env().items():
                monkeypatch.setenv(k, v)
            data = tomllib.loads(EXAMPLE.read_text())
            data["output_dir"] = str(tmp_path / "run")
            data["source"]["live"]["emulate"] = False
            data["connectors"] = {
                venue: CONNECTORS[venue].emulated_settings(emu)
                for venue, emu in venues.emulators.items()
                if venue != "binance"
            }
            emu = venues.emulators["binance"]
            base = emu.http_url
            data["connectors"]["binance"] = {
                "connector": "ccxt",
                "exchange_id": "binance",
                "urls": {"api": {"public": base + "/api/v3", "private": base + "/api/v3",
                                 "sapi": base + "/sapi/v1", "ws": {"spot": emu.ws_url + "/ws"}}},
                "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                            "fetchMargins": False},
            }
            bot = Bot(config_from_dict(data))
            summary = await bot.arun(duration_s=8.0)
            assert bot.executor is not None
            assert type(bot.executor.gateways["binance"]).__name__ == "CcxtTradingGateway"  # type: ignore[attr-defined]
            return summary
        finally:
            await venues.stop()

    summary = asyncio.run(asyncio.wait_for(go(), 120))
    assert summary["exit_code"] == 0, summary
    journal = check_journals(tmp_path / "run")
    truth = {o.client_id: o for o in venues.orders("binance")}  # type: ignore[attr-defined]
    sent = {str(o[0]): o for o in journal.get("binance", []) if o[5]}
    assert truth and set(truth) == set(sent)
    for cid, o in truth.items():
        assert abs(float(o.filled) - float(sent[cid][4])) < 1e-12, cid  # type: ignore[arg-type]
