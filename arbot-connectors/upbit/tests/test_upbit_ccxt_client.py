"""ccxt 4.5 (an independent client with its own signing) trades against ``arbot emulate upbit``
run as a command: it creates, queries and cancels an order and fetches balances, and is refused
with a wrong secret."""

from __future__ import annotations

import ccxt
import pytest
from arbot.testing.emulator.emulate_process import EmulateOutput, emulate_process, rebase_urls


def _client(out: EmulateOutput, secret: str | None = None) -> ccxt.upbit:
    ex = ccxt.upbit({"apiKey": out.info["api_key"], "secret": secret or out.info["secret"],
                      "timeout": 10000})
    rebase_urls(ex.urls["api"], out.http_url)
    return ex


def test_ccxt_trades_against_arbot_emulate_and_a_wrong_secret_is_refused() -> None:
    with emulate_process("upbit", "--symbols", "BTC/KRW,ETH/KRW") as out:
        assert set(out.info) >= {"http_url", "ws_url", "api_key", "secret"} and "passphrase" not in out.info
        ex = _client(out)
        ex.load_markets()
        price = 70_000_000  # below the scripted book (mid 80,000,000 KRW), a multiple of the 1,000 tick
        order = ex.create_order("BTC/KRW", "limit", "buy", 0.01, price)
        fetched = ex.fetch_order(order["id"], "BTC/KRW")
        assert fetched["status"] == "open" and fetched["amount"] == 0.01
        assert [o["id"] for o in ex.fetch_open_orders("BTC/KRW")] == [order["id"]]
        balance = ex.fetch_balance()
        assert balance["KRW"]["used"] > 0 and balance["BTC"]["total"] == 10.0
        ex.cancel_order(order["id"], "BTC/KRW")
        assert ex.fetch_order(order["id"], "BTC/KRW")["status"] == "canceled"
        assert ex.fetch_balance()["KRW"]["used"] == 0
        wrong = _client(out, secret="0" * 48)
        wrong.markets, wrong.currencies = ex.markets, ex.currencies
        with pytest.raises(ccxt.AuthenticationError):
            wrong.fetch_balance()
        with pytest.raises(ccxt.AuthenticationError):
            wrong.create_order("BTC/KRW", "limit", "buy", 0.01, price)
