"""Execute mode over loopback: the rebalancer reads live networks from the Binance gateway, plans,
and withdraws through a separate withdrawal key on the Binance emulator, whose withdrawals and
deposits confirm after a delay. Every safeguard refuses before a request reaches the venue."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import attrs
import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import BalanceSnapshot
from arbot.trading.signing import ApiCredentials
from arbot_binance.emulator import BinanceEmulator
from arbot_binance.trading import BinanceTradingGateway
from arbot_rebalancer.settings import EXECUTE_ENV, RebalancerSettings
from arbot_rebalancer.sink import RebalancerSink
from arbot_rebalancer.transfers import TransferExecutor, WithdrawalGateway

ADDRESS_B = "TXbinanceBdepositAddress000000001"
WITHDRAW_SECRET = "WITHDRAWSECRET-do-not-print-0123456789"


def _settings(**over):
    data = {
        "enabled": True,
        "imbalance_threshold_pct": 30,
        "preferred_networks": {"USDT": ["TRC20"]},
        "execute": True,
        "address_allowlist": [ADDRESS_B],
        "deposit_addresses": {"binance_b": {"USDT": {"TRC20": ADDRESS_B}}},
        "withdraw_keys": {"binance": {"api_key": "wkey", "secret": WITHDRAW_SECRET}},
        "simulate": False,
        **over,
    }
    return data


def _bot(tmp_path, rebalancer):
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "system": {"execution_mode": "live"},
            "exchanges": {"enabled": ["binance", "binance_b"], "fees": {"binance_b": {"taker_pct": 0.1}}},
            "symbols": ["BTC/USDT"],
            "executor": {"name": "none"},
            "portfolio": {"per_venue": {"binance": {"USDT": 9000.0}, "binance_b": {"USDT": 1000.0}}},
            "sinks": {"enabled": []},
            "rebalancer": rebalancer,
        }
    )
    bot = Bot(cfg, mode="live")
    [sink] = [s for s in bot.sinks if isinstance(s, RebalancerSink)]
    return bot, sink


class Venues:
    """Two Binance emulators: A holds 9,000 USDT, B 1,000; A's account has a second, withdrawal
    key (the trading key only trades)."""

    def __init__(self, a: BinanceEmulator, b: BinanceEmulator) -> None:
        self.a, self.b = a, b
        self.acct_a = a.private.create_account({"USDT": "9000"})
        self.acct_b = b.private.create_account({"USDT": "1000"})
        # a second API key on the same account (shares its balances), with withdrawal rights
        alias = attrs.evolve(self.acct_a, api_key="wkey", secret=WITHDRAW_SECRET)
        a.private.exchange.accounts["wkey"] = alias
        a.private.withdraw_keys.add("wkey")
        self.gw_a = BinanceTradingGateway(
            ApiCredentials(self.acct_a.api_key, secret=self.acct_a.secret), rest_url=a.http_url, timeout=3
        )
        self.gw_b = BinanceTradingGateway(
            ApiCredentials(self.acct_b.api_key, secret=self.acct_b.secret), rest_url=b.http_url, timeout=3
        )
        self.withdraw_a = BinanceTradingGateway(
            ApiCredentials("wkey", secret=WITHDRAW_SECRET), rest_url=a.http_url
        )

    def withdrawals(self) -> list:
        return self.a.private.exchange.transfer_history("wkey", "withdrawal")


def run(main, timeout: float = 30.0) -> None:
    async def go() -> None:
        async with (
            BinanceEmulator(("BTC/USDT",), seed=3, tick_interval=None) as a,
            BinanceEmulator(("BTC/USDT",), seed=4, tick_interval=None) as b,
        ):
            v = Venues(a, b)
            try:
                await main(v)
            finally:
                for gw in (v.gw_a, v.gw_b, v.withdraw_a):
                    await gw.close()

    asyncio.run(asyncio.wait_for(go(), timeout))


def test_the_binance_gateway_is_a_withdrawal_gateway():
    gw = BinanceTradingGateway(ApiCredentials("k", secret="s"))
    assert isinstance(gw, WithdrawalGateway)


def test_execute_mode_withdraws_and_the_deposit_confirms_after_its_delay(tmp_path, caplog, capsys):
    _, sink = _bot(tmp_path, _settings())

    async def main(v: Venues) -> None:
        sink.network_sources = {"binance": v.gw_a, "binance_b": v.gw_b}
        executor = TransferExecutor(
            sink.settings,
            {"binance": v.withdraw_a},
            trading_keys={"binance": v.acct_a.api_key},
            environ={EXECUTE_ENV: "1"},
        )
        sink.attach(executor)
        with caplog.at_level(logging.DEBUG):
            # a balance snapshot makes the check due: networks are read live, then the plan runs
            sink.emit(BalanceSnapshot(0.0, "binance", "USDT", 9000.0, 9000.0))
            [outcome] = await sink.drain()
        assert {n.network for n in sink.networks("binance", "USDT")} == {"TRX", "ETH"}
        plan = sink.last_plan
        [t] = plan.transfers
        assert (t.source, t.destination, t.network, t.fee) == ("binance", "binance_b", "TRX", 1.0)
        assert t.amount == pytest.approx(4000.0) and t.minutes == 1.0  # the venue's arrival estimate
        assert outcome.status == "sent" and outcome.detail == ADDRESS_B
        [w] = v.withdrawals()
        assert (w.address, w.network, w.amount, w.fee) == (ADDRESS_B, "TRX", Decimal("4000"), Decimal("1"))
        assert (await v.gw_a.balances())["USDT"].free == 5000.0  # debited at once
        [done] = await executor.wait([outcome], timeout=5.0, poll=0.2)  # confirms after 1 s
        assert done.status == "completed"
        # the chain delivers to B's deposit address: a deposit, pending until confirmed
        v.b.private.exchange.deposit(v.acct_b.api_key, "USDT", "TRX", Decimal(str(t.delivered)))
        assert (await v.gw_b.balances())["USDT"].free == 1000.0
        await asyncio.sleep(1.05)
        assert (await v.gw_b.balances())["USDT"].free == 4999.0
        assert sink.stats()["live_sent"] == 1 and sink.stats()["mode"] == "execute"
        out = capsys.readouterr()
        assert WITHDRAW_SECRET not in caplog.text + out.out + out.err + repr(sink.settings)

    run(main)


@pytest.mark.parametrize(
    ("over", "environ", "trading_is_withdraw", "status", "why"),
    [
        ({}, {}, False, "dry_run", ""),  # no ARBOT_REBALANCER_EXECUTE=1
        ({"execute": False}, {EXECUTE_ENV: "1"}, False, "dry_run", ""),
        ({"address_allowlist": ["TSomeOtherAddress"]}, {EXECUTE_ENV: "1"}, False, "refused", "allowlist"),
        ({"deposit_addresses": {}}, {EXECUTE_ENV: "1"}, False, "refused", "no deposit address"),
        ({"withdraw_keys": {}}, {EXECUTE_ENV: "1"}, False, "refused", "no withdrawal key"),
        ({}, {EXECUTE_ENV: "1"}, True, "refused", "is the trading key"),
    ],
)
def test_safeguards_stop_a_withdrawal_before_any_request(
    tmp_path, capsys, over, environ, trading_is_withdraw, status, why
):
    _, sink = _bot(tmp_path, _settings(**over))

    async def main(v: Venues) -> None:
        await sink.refresh_networks({"binance": v.gw_a, "binance_b": v.gw_b}, ["USDT"])
        trading_key = "wkey" if trading_is_withdraw else v.acct_a.api_key
        sink.attach(
            TransferExecutor(sink.settings, {"binance": v.withdraw_a}, {"binance": trading_key}, environ)
        )
        sink.check(0.0)
        [outcome] = await sink.drain()
        assert outcome.status == status and why in outcome.detail
        assert v.withdrawals() == []
        assert (await v.gw_a.balances())["USDT"].free == 9000.0
        if status == "dry_run":
            assert "rebalancer dry run: 4000 USDT binance -> binance_b via TRX" in capsys.readouterr().out

    run(main)


def test_settings_keep_the_withdrawal_secret_out_of_reprs():
    s = RebalancerSettings.model_validate(_settings())
    assert WITHDRAW_SECRET not in repr(s) and WITHDRAW_SECRET not in str(s.model_dump())
