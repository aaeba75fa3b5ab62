"""Execute mode on a venue other than Binance, through the generic wallet interface: the
rebalancer reads live networks from two OKX emulators, plans, and withdraws through a separate,
withdrawal-enabled OKX key (signed as OKX signs, with its passphrase); the withdrawal confirms
after the network's delay and the deposit is credited on the other venue after its own."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import attrs
import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import BalanceSnapshot
from arbot.trading.gateway import WalletGateway
from arbot.trading.signing import ApiCredentials
from arbot_okx.emulator import OkxEmulator
from arbot_okx.trading import OkxTradingGateway
from arbot_rebalancer.settings import EXECUTE_ENV
from arbot_rebalancer.sink import RebalancerSink
from arbot_rebalancer.transfers import TransferExecutor

ADDRESS_B = "TXokxBdepositAddress00000000000001"
WITHDRAW_SECRET = "WITHDRAWSECRET-okx-do-not-print-0123456789"
PASSPHRASE = "Wpp-okx-0001"


def _bot(tmp_path):
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "system": {"execution_mode": "live"},
            "exchanges": {"enabled": ["okx", "okx_b"], "fees": {"okx_b": {"taker_pct": 0.1}}},
            "symbols": ["BTC/USDT"],
            "executor": {"name": "none"},
            "portfolio": {"per_venue": {"okx": {"USDT": 9000.0}, "okx_b": {"USDT": 1000.0}}},
            "sinks": {"enabled": []},
            "rebalancer": {
                "enabled": True,
                "imbalance_threshold_pct": 30,
                "preferred_networks": {"USDT": ["TRC20"]},
                "execute": True,
                "address_allowlist": [ADDRESS_B],
                "deposit_addresses": {"okx_b": {"USDT": {"TRC20": ADDRESS_B}}},
                "withdraw_keys": {
                    "okx": {"api_key": "wkey-okx", "secret": WITHDRAW_SECRET, "passphrase": PASSPHRASE}
                },
                "simulate": False,
            },
        }
    )
    bot = Bot(cfg, mode="live")
    [sink] = [s for s in bot.sinks if isinstance(s, RebalancerSink)]
    return sink


def test_execute_mode_withdraws_on_okx_through_the_wallet_interface(tmp_path):
    sink = _bot(tmp_path)

    async def main() -> None:
        async with (
            OkxEmulator(("BTC/USDT",), seed=3, tick_interval=None) as a,
            OkxEmulator(("BTC/USDT",), seed=4, tick_interval=None) as b,
        ):
            acct_a = a.private.create_account({"USDT": "9000"})
            acct_b = b.private.create_account({"USDT": "1000"})
            # a second key on A's account (shares its balances) with withdrawal rights
            a.private.exchange.accounts["wkey-okx"] = attrs.evolve(
                acct_a, api_key="wkey-okx", secret=WITHDRAW_SECRET, passphrase=PASSPHRASE
            )
            a.private.withdraw_keys.add("wkey-okx")
            gw_a = OkxTradingGateway(
                ApiCredentials(acct_a.api_key, secret=acct_a.secret, passphrase=acct_a.passphrase),
                rest_url=a.http_url,
            )
            gw_b = OkxTradingGateway(
                ApiCredentials(acct_b.api_key, secret=acct_b.secret, passphrase=acct_b.passphrase),
                rest_url=b.http_url,
            )
            withdraw_a = OkxTradingGateway(
                ApiCredentials("wkey-okx", secret=WITHDRAW_SECRET, passphrase=PASSPHRASE), rest_url=a.http_url
            )
            assert isinstance(withdraw_a, WalletGateway) and withdraw_a.supports_withdrawals
            try:
                for gw in (gw_a, gw_b, withdraw_a):
                    await gw.sync_clock()
                sink.network_sources = {"okx": gw_a, "okx_b": gw_b}
                executor = TransferExecutor(
                    sink.settings,
                    {"okx": withdraw_a},
                    trading_keys={"okx": acct_a.api_key},
                    environ={EXECUTE_ENV: "1"},
                )
                sink.attach(executor)
                sink.emit(BalanceSnapshot(0.0, "okx", "USDT", 9000.0, 9000.0))
                [outcome] = await sink.drain()
                [t] = sink.last_plan.transfers
                assert (t.source, t.destination, t.network, t.fee) == ("okx", "okx_b", "TRC20", 1.0)
                assert outcome.status == "sent" and outcome.detail == ADDRESS_B
                [w] = a.private.exchange.transfer_history("wkey-okx", "withdrawal")
                assert (w.address, w.network) == (ADDRESS_B, "TRC20")
                assert (w.amount, w.fee) == (Decimal("4000"), Decimal("1"))
                assert a.private.exchange.transfer_history(acct_a.api_key, "withdrawal") == []
                assert (await gw_a.balances())["USDT"].free == pytest.approx(5000.0)  # debited at once
                [done] = await executor.wait([outcome], timeout=10.0, poll=0.2)  # confirms after 1 s
                assert done.status == "completed"
                # the chain delivers to B: a deposit, pending until its confirmations
                delivered = Decimal(str(t.delivered))
                deposit = b.private.exchange.deposit(acct_b.api_key, "USDT", "TRC20", delivered)
                [pending] = await gw_b.deposits("USDT")
                assert pending.amount == pytest.approx(3999.0) and pending.state.value == "pending"
                await asyncio.sleep(max(0.0, deposit.completes_at - b.private.exchange.clock()) + 0.05)
                assert (await gw_b.balances())["USDT"].free == pytest.approx(4999.0)
            finally:
                for gw in (gw_a, gw_b, withdraw_a):
                    await gw.close()

    asyncio.run(asyncio.wait_for(main(), 60))
