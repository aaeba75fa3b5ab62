"""``arbot run`` (a real subprocess) of a live config that rebalances for real: the rebalancer
builds its own Binance withdrawal gateway from ``[rebalancer.withdraw_keys.binance]`` through the
connector class, withdraws from venue A, and the deposit is credited on venue B after the
network's confirmation delay.

The two venues are Binance emulators in this test's process (``emulate = false``: the bot
reaches them as real venues on 127.0.0.1, trading keys from the environment). This test plays
the chain between them: once A reports the withdrawal completed, it delivers ``amount - fee`` to
B's deposit address (B's account), as a blockchain would. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

import attrs
from arbot.testing.emulator.exchange_models import TransferStatus
from arbot_binance.connector import BinanceConnector
from arbot_binance.emulator import BinanceEmulator

ADDRESS_B = "TXbinanceBdepositAddress000000001"
WITHDRAW_KEY = "wkey-rebalancer-0001"
WITHDRAW_SECRET = "WITHDRAWSECRET-e2e-do-not-print-0123456789"
ARBOT = [sys.executable, "-m", "arbot.cli"]


def _toml(value: object) -> str:
    return json.dumps(value)  # strings, numbers and lists of them are the same in TOML


def config(out: Path, a: BinanceEmulator | None, b: BinanceEmulator | None) -> str:
    """A live config trading on ``a`` and ``b`` (``emulate = false``); None: the built-in emulators."""
    lines = [
        f"output_dir = {_toml(str(out))}",
        'symbols = ["BTC/USDT"]',
        "[system]",
        'execution_mode = "live"',
        "[exchanges]",
        'enabled = ["binance", "binance_b"]',
        "[exchanges.fees.binance_b]",
        "taker_pct = 0.1",
        "[source]",
        'name = "live"',
        "[source.live]",
        "emulate = false",
        "[executor]",
        'name = "none"',
        "[portfolio.per_venue.binance]",
        "USDT = 9000.0",
        "[portfolio.per_venue.binance_b]",
        "USDT = 1000.0",
        "[sinks]",
        "enabled = []",
        "[rebalancer]",
        "enabled = true",
        "imbalance_threshold_pct = 30",
        'preferred_networks = { USDT = ["TRC20"] }',
        "execute = true",
        f"address_allowlist = [{_toml(ADDRESS_B)}]",
        "[rebalancer.networks.USDT]",  # the destination's networks (it has no withdrawal key)
        "TRC20 = { fee = 1.0, minimum = 10, minutes = 1 }",
        "[rebalancer.deposit_addresses.binance_b.USDT]",
        f"TRC20 = {_toml(ADDRESS_B)}",
        "[rebalancer.withdraw_keys.binance]",
        f"api_key = {_toml(WITHDRAW_KEY)}",
        f"secret = {_toml(WITHDRAW_SECRET)}",
    ]
    for venue, emu in (("binance", a), ("binance_b", b)):
        lines.append(f"[connectors.{venue}]")
        if venue != "binance":
            lines.append('connector = "binance"')  # a second Binance-like venue
        if emu is not None:
            lines += [f"{k} = {_toml(v)}" for k, v in BinanceConnector.emulated_settings(emu).items()]
    return "\n".join(lines) + "\n"


def test_arbot_run_withdraws_and_the_destination_is_credited_after_confirmation(tmp_path: Path) -> None:
    async def go() -> None:
        async with (
            BinanceEmulator(("BTC/USDT",), seed=3) as a,
            BinanceEmulator(("BTC/USDT",), seed=4) as b,
        ):
            ex_a, ex_b = a.private.exchange, b.private.exchange
            acct_a = a.private.create_account({"USDT": "9000"})
            acct_b = b.private.create_account({"USDT": "1000"})
            # A's account has a second API key with withdrawal rights; the trading key has none
            ex_a.accounts[WITHDRAW_KEY] = attrs.evolve(acct_a, api_key=WITHDRAW_KEY, secret=WITHDRAW_SECRET)
            a.private.withdraw_keys.add(WITHDRAW_KEY)
            cfg = tmp_path / "live_rebalance.toml"
            cfg.write_text(config(tmp_path / "run", a, b))
            env = {k: v for k, v in os.environ.items()
                   if not k.endswith(("_API_KEY", "_API_SECRET", "_PASSPHRASE"))}
            env.update({
                "BINANCE_API_KEY": acct_a.api_key, "BINANCE_API_SECRET": acct_a.secret,
                "BINANCE_B_API_KEY": acct_b.api_key, "BINANCE_B_API_SECRET": acct_b.secret,
                "ARBOT_REBALANCER_EXECUTE": "1",
            })
            proc = await asyncio.create_subprocess_exec(
                *ARBOT, "-v", "run", str(cfg), "--duration", "6",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env, cwd=tmp_path,
            )
            communicate = asyncio.ensure_future(proc.communicate())
            delivered = None
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60.0
            # the chain: wait for A's withdrawal to complete, then deliver it to B's account
            while delivered is None and loop.time() < deadline and not communicate.done():
                for w in ex_a.transfer_history(WITHDRAW_KEY, "withdrawal"):
                    if w.status is TransferStatus.COMPLETED:
                        delivered = w
                await asyncio.sleep(0.05)
            if delivered is None:
                out, _ = await asyncio.wait_for(communicate, 60)
                raise AssertionError("no withdrawal completed at venue A:\n" + out.decode())
            assert (delivered.address, delivered.network) == (ADDRESS_B, "TRX")
            assert (delivered.amount, delivered.fee) == (Decimal("4000"), Decimal("1"))
            assert acct_a.balance("USDT")[0] == Decimal("5000")  # debited at venue A
            assert ex_a.transfer_history(acct_a.api_key, "withdrawal") == []  # not by the trading key
            deposit = ex_b.deposit(acct_b.api_key, "USDT", "TRX", delivered.amount - delivered.fee,
                                   txid=delivered.txid)
            assert deposit.completes_at > deposit.created  # the network has a confirmation delay
            ex_b.transfer_history(acct_b.api_key)
            assert acct_b.balance("USDT")[0] == Decimal("1000")  # pending until confirmed
            await asyncio.sleep(deposit.completes_at - ex_b.clock() + 0.1)
            ex_b.transfer_history(acct_b.api_key)
            assert acct_b.balance("USDT")[0] == Decimal("4999")  # credited after the delay
            out, _ = await asyncio.wait_for(communicate, 60)
            text = out.decode()
            assert proc.returncode == 0, text
            assert "rebalancer sent 4000 USDT binance -> binance_b via TRX" in text, text
            assert "mode=execute" in text and "live_sent=1" in text, text
            assert WITHDRAW_SECRET not in text
            for f in (tmp_path / "run").rglob("*"):
                if f.is_file():
                    assert WITHDRAW_SECRET.encode() not in f.read_bytes(), f
            assert len(ex_a.transfer_history(WITHDRAW_KEY, "withdrawal")) == 1  # one plan, one send

    asyncio.run(asyncio.wait_for(go(), 150))


def test_arbot_run_withdraws_on_the_builtin_emulator(tmp_path: Path) -> None:
    """``[source.live] emulate = true``: the withdrawal gateway points at the bot's own Binance
    emulator, where the withdrawal key is granted to the venue's account; the withdrawal is
    accepted there (the emulators have no chain between them, so nothing is credited)."""
    text = config(tmp_path / "run", None, None)
    text = text.replace("emulate = false", "emulate = true")
    cfg = tmp_path / "live_rebalance_emulated.toml"
    cfg.write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_API_SECRET", "_PASSPHRASE"))}

    async def go(extra: dict[str, str]) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            *ARBOT, "-v", "run", str(cfg), "--duration", "4",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env={**env, **extra},
            cwd=tmp_path,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode or 0, out.decode()

    code, out = asyncio.run(go({"ARBOT_REBALANCER_EXECUTE": "1"}))
    assert code == 0, out
    assert "rebalancer sent 4000 USDT binance -> binance_b via TRX" in out and "(withdrawal 1)" in out, out
    assert "mode=execute" in out and "live_sent=1" in out and "live_failed=0" in out, out
    assert WITHDRAW_SECRET not in out
    code, out = asyncio.run(go({}))  # without the environment opt-in: printed, not sent
    assert code == 0, out
    assert "rebalancer dry run: 4000 USDT binance -> binance_b via TRX" in out, out
    assert "live_sent=0" in out and "live_dry_run=1" in out, out
