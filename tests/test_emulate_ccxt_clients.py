"""ccxt 4.5, a client with its own signing, trades against ``arbot emulate VENUE`` run as a
command, for Binance, OKX, Bybit and Bitget (KuCoin, Gate, Upbit and Bithumb have the same test
in their own packages): it creates, queries and cancels an order and fetches balances, and a
wrong secret is refused. ccxt is told what the emulators are: spot markets only, no currency or
margin listings, and (Bybit) a unified trading account."""

from __future__ import annotations

from typing import Any

import pytest

ccxt = pytest.importorskip("ccxt")

from arbot.testing.emulator.emulate_process import EmulateOutput, emulate_process, rebase_urls  # noqa: E402

OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False},
    "okx": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
    "bybit": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "enableUnifiedMargin": False,
              "enableUnifiedAccount": True},
    "bitget": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False},
}


def client(venue: str, out: EmulateOutput, secret: str | None = None) -> Any:
    ex = getattr(ccxt, venue)({"apiKey": out.info["api_key"], "secret": secret or out.info["secret"],
                               "password": out.info.get("passphrase"), "timeout": 10000})
    rebase_urls(ex.urls["api"], out.http_url)
    ex.options.update(OPTIONS[venue])
    return ex


@pytest.mark.parametrize("venue", sorted(OPTIONS))
def test_ccxt_trades_against_arbot_emulate(venue: str) -> None:
    pytest.importorskip(f"arbot_{venue}")
    with emulate_process(venue) as out:
        assert ("passphrase" in out.info) == (venue in ("okx", "bitget"))
        ex = client(venue, out)
        ex.load_markets()
        bid = ex.fetch_order_book("BTC/USDT")["bids"][0][0]
        price = float(ex.price_to_precision("BTC/USDT", bid * 0.98))
        order = ex.create_order("BTC/USDT", "limit", "buy", 0.01, price)
        extra = {"acknowledged": True} if venue == "bybit" else {}
        fetched = ex.fetch_order(order["id"], "BTC/USDT", extra)
        assert fetched["status"] == "open" and fetched["amount"] == 0.01
        assert ex.fetch_balance()["USDT"]["used"] > 0
        ex.cancel_order(order["id"], "BTC/USDT")
        assert ex.fetch_order(order["id"], "BTC/USDT", extra)["status"] == "canceled"
        assert ex.fetch_balance()["USDT"]["used"] == 0
        wrong = client(venue, out, secret="0" * 48)
        wrong.markets, wrong.markets_by_id = ex.markets, ex.markets_by_id
        with pytest.raises(ccxt.AuthenticationError):
            wrong.create_order("BTC/USDT", "limit", "buy", 0.01, price)
