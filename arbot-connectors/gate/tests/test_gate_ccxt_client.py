"""ccxt 4.5 (an independent client with its own signing) trades against ``arbot emulate gate``
run as a command: it creates, queries and cancels an order and fetches balances, and is refused
with a wrong secret. ccxt is told the emulator is spot only (``fetchMarkets.types``)."""

from __future__ import annotations

import ccxt
import pytest
from arbot.testing.emulator.emulate_process import EmulateOutput, emulate_process, rebase_urls


def _client(out: EmulateOutput, secret: str | None = None) -> ccxt.gate:
    ex = ccxt.gate({"apiKey": out.info["api_key"], "secret": secret or out.info["secret"],
                      "timeout": 10000})
    rebase_urls(ex.urls["api"], out.http_url)
    ex.options["fetchMarkets"] = {"types": ["spot"]}
    return ex


def test_ccxt_trades_against_arbot_emulate_and_a_wrong_secret_is_refused() -> None:
    with emulate_process("gate") as out:
        assert set(out.info) >= {"http_url", "ws_url", "api_key", "secret"} and "passphrase" not in out.info
        ex = _client(out)
        ex.load_markets()
        bid = ex.fetch_order_book("BTC/USDT")["bids"][0][0]
        order = ex.create_order("BTC/USDT", "limit", "buy", 0.01, round(bid * 0.98, 2))
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
            wrong.create_order("BTC/USDT", "limit", "buy", 0.01, round(bid * 0.98, 2))
