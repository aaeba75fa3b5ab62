"""ccxt 4.5 (an independent client with its own signing) trades against ``arbot emulate kucoin``
run as a command: it creates, queries and cancels an order and fetches balances, and is refused
with a wrong secret. ccxt is told the emulator is spot only (``fetchMarkets.types``)."""

from __future__ import annotations

import asyncio

import ccxt
import pytest
from arbot.testing.emulator.emulate_process import EmulateOutput, emulate_process, rebase_urls
from arbot.trading.signing import ApiCredentials
from arbot_kucoin.trading import KucoinTradingGateway


def _client(out: EmulateOutput, secret: str | None = None) -> ccxt.kucoin:
    ex = ccxt.kucoin({"apiKey": out.info["api_key"], "secret": secret or out.info["secret"],
                      "password": out.info["passphrase"], "timeout": 10000})
    rebase_urls(ex.urls["api"], out.http_url)
    ex.options["fetchMarkets"] = {"types": ["spot"]}
    return ex


def test_ccxt_trades_against_arbot_emulate_and_a_wrong_secret_is_refused() -> None:
    with emulate_process("kucoin") as out:
        assert set(out.info) >= {"http_url", "ws_url", "api_key", "secret", "passphrase"}
        ex = _client(out)
        ex.load_markets()
        bid = ex.fetch_order_book("BTC/USDT")["bids"][0][0]
        order = ex.create_order("BTC/USDT", "limit", "buy", 0.01, round(bid * 0.98, 1))
        fetched = ex.fetch_order(order["id"], "BTC/USDT")
        assert fetched["status"] == "open" and fetched["amount"] == 0.01
        assert [o["id"] for o in ex.fetch_open_orders("BTC/USDT")] == [order["id"]]
        balance = ex.fetch_balance()
        assert balance["USDT"]["used"] > 0 and balance["BTC"]["total"] == 10.0
        ex.cancel_order(order["id"], "BTC/USDT")
        assert ex.fetch_order(order["id"], "BTC/USDT")["status"] == "canceled"
        assert ex.fetch_balance()["USDT"]["used"] == 0
        wrong = _client(out, secret="0" * 48)
        wrong.markets, wrong.currencies = ex.markets, ex.currencies
        with pytest.raises(ccxt.AuthenticationError):
            wrong.fetch_balance()
        with pytest.raises(ccxt.AuthenticationError):
            wrong.create_order("BTC/USDT", "limit", "buy", 0.01, round(bid * 0.98, 1))


def test_emulate_with_an_accounts_file_and_armed_faults(tmp_path: object) -> None:
    from pathlib import Path

    accounts = Path(str(tmp_path)) / "accounts.json"
    accounts.write_text('[{"api_key": "my-key", "secret": "my-secret-0123456789abcdef0123456789",'
                        ' "passphrase": "my-pass", "balances": {"USDT": "1000"}, "withdraw": true}]')
    with emulate_process("kucoin", "--accounts", str(accounts), "--faults", "reject_balance") as out:
        assert out.info["api_key"] == "my-key" and out.info["passphrase"] == "my-pass"
        ex = _client(out)
        ex.load_markets()
        assert ex.fetch_balance()["USDT"]["free"] == 1000.0
        bid = ex.fetch_order_book("BTC/USDT")["bids"][0][0]
        with pytest.raises(ccxt.InsufficientFunds):  # the armed fault
            ex.create_order("BTC/USDT", "limit", "buy", 0.001, round(bid * 0.98, 1))
        order = ex.create_order("BTC/USDT", "limit", "buy", 0.001, round(bid * 0.98, 1))
        assert ex.fetch_order(order["id"], "BTC/USDT")["status"] == "open"
        # "withdraw": true gave the key withdrawal rights: the gateway withdraws, signed as KuCoin
        wid = asyncio.run(_withdraw(out.http_url, out.info["secret"]))
        assert wid and ex.fetch_balance()["USDT"]["total"] == pytest.approx(1000.0 - 25.0)  # debited


async def _withdraw(url: str, secret: str) -> str:
    gw = KucoinTradingGateway(ApiCredentials("my-key", secret=secret, passphrase="my-pass"), rest_url=url,
                              stream=False)
    try:
        await gw.sync_clock()
        return await gw.withdraw("USDT", "USDT", 25.0, "TXaddr000000000000000000000000001")
    finally:
        await gw.close()


def test_emulate_refuses_bad_input() -> None:
    import subprocess
    import sys

    def emulate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "arbot", "emulate", *args, "--duration", "5"],
                              capture_output=True, text=True, timeout=60)

    unknown = emulate("nope")
    assert unknown.returncode == 2 and "no emulator for venue 'nope'" in unknown.stderr
    assert "kucoin" in unknown.stderr  # the installed venues are listed
    bad_fault = emulate("kucoin", "--faults", "explode:2")
    assert bad_fault.returncode == 2 and "unknown fault 'explode'" in bad_fault.stderr
    assert bad_fault.stdout == ""


@pytest.mark.parametrize(
    ("account", "shown"),
    [
        ('{"balances": {"USDT": -5}}', "balance USDT = -5 must be a finite number >= 0"),
        ('{"balances": {"USDT": NaN}}', "balance USDT = nan must be a finite number >= 0"),
        ('{"balances": {"USDT": true}}', "balance USDT = True is not a number"),
        ('{"withdrawl": true}', "unknown key 'withdrawl'"),
        ('{"withdraw": "yes"}', "'withdraw' must be true or false"),
    ],
)
def test_emulate_refuses_a_bad_account(tmp_path: object, account: str, shown: str) -> None:
    """A negative or NaN balance, or a misspelt key, is exit 2 naming it (they were accepted)."""
    import subprocess
    import sys
    from pathlib import Path

    accounts = Path(str(tmp_path)) / "accounts.json"
    accounts.write_text(f"[{account}]")
    res = subprocess.run([sys.executable, "-m", "arbot", "emulate", "kucoin", "--accounts", str(accounts),
                          "--duration", "5"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and f"account 0: {shown}" in res.stderr, res.stderr
    assert res.stdout == "" and "Traceback" not in res.stderr
