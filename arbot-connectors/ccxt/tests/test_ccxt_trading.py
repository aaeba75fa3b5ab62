"""Trading through ccxt: signed orders, cancels, balances and withdrawal fees against the Binance
emulator's private API (which verifies ccxt's signatures by Binance's rule); and the base
class's clear error when no keys are configured."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from arbot.errors import ArbotError
from arbot.events import Side
from arbot.testing.emulator import make_context
from arbot_ccxt import CcxtConnector, CcxtSettings

emulator_mod = pytest.importorskip("arbot_binance.emulator")

KEY, SECRET = "test-key", "test-secret"


def signed_emulator(symbols: tuple[str, ...]) -> Any:
    """The Binance emulator, whose private API (``arbot_binance.private_api``) verifies every
    signed request, with an account for KEY/SECRET."""
    em = emulator_mod.BinanceEmulator(symbols, tick_interval=None)
    em.private.create_account({"BTC": "1.25", "USDT": "1000.5"}, api_key=KEY, secret=SECRET)
    return em


def settings_for(emulator: Any, **extra: Any) -> CcxtSettings:
    base = emulator.http_url
    values: dict[str, Any] = dict(
        exchange_id="binance",
        urls={"api": {"public": base + "/api/v3", "private": base + "/api/v3",
                      "sapi": base + "/sapi/v1", "ws": {"spot": emulator.ws_url + "/ws"}}},
        # with keys ccxt's binance also loads margin pairs (sapi) unless told not to
        options={"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                 "fetchMargins": False},
    )
    values.update(extra)
    return CcxtSettings(**values)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_ccxt_trading_through_signed_endpoints() -> None:
    async def main() -> None:
        em = signed_emulator(("BTC/USDT", "ETH/USDT"))
        await em.start()
        conn = CcxtConnector(settings_for(em, api_key=KEY, api_secret=SECRET), make_context())
        try:
            await conn.load_markets()
            order = await conn.place_order("BTC/USDT", Side.BUY, "LIMIT", 0.01, 59000.0)
            assert order["side"] == "buy" and order["amount"] == 0.01
            placed = em.private.exchange.orders[int(order["id"])]
            assert placed.symbol == "BTC/USDT" and placed.side is Side.BUY
            assert float(placed.price) == 59000.0 and float(placed.qty) == 0.01
            assert await conn.cancel_order("BTC/USDT", order["id"]) is True
            assert placed.status.value == "CANCELLED"
            assert await conn.get_balances() == {"BTC": 1.25, "USDT": 1000.5}
            assert await conn.get_withdrawal_fee("USDT", "trx") == 1.0
            assert await conn.get_withdrawal_fee("USDT", "ETH") == 3.2
            with pytest.raises(ArbotError):
                await conn.get_withdrawal_fee("USDT", "SOL")
        finally:
            await conn.close()
            await em.stop()

    run(main())


def test_ccxt_wrong_secret_is_rejected_by_the_venue() -> None:
    async def main() -> None:
        em = signed_emulator(("BTC/USDT",))
        await em.start()
        conn = CcxtConnector(settings_for(em, api_key=KEY, api_secret="wrong"), make_context())
        try:
            await conn.load_markets()
            with pytest.raises(Exception, match="Signature"):
                await conn.get_balances()
        finally:
            await conn.close()
            await em.stop()

    run(main())


def test_ccxt_trading_without_keys_raises_the_base_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BINANCE_API_KEY", raising=False)
    monkeypatch.delenv("BINANCE_API_SECRET", raising=False)

    async def main() -> None:
        conn = CcxtConnector(CcxtSettings(exchange_id="binance"), make_context())
        try:
            with pytest.raises(ArbotError, match="does not support trading"):
                await conn.place_order("BTC/USDT", Side.BUY, "LIMIT", 1.0, 1.0)
            with pytest.raises(ArbotError, match="does not support trading"):
                await conn.cancel_order("BTC/USDT", "1")
            with pytest.raises(ArbotError, match="does not support trading"):
                await conn.get_balances()
            with pytest.raises(ArbotError, match="does not support withdrawals"):
                await conn.get_withdrawal_fee("USDT", "TRX")
        finally:
            await conn.close()

    run(main())


def test_ccxt_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "k-env")
    monkeypatch.setenv("KRAKEN_API_SECRET", "s-env")
    s = CcxtSettings(exchange_id="kraken")
    assert s.has_credentials
    assert s.api_key.get_secret_value() == "k-env"
    assert "k-env" not in repr(s) and "s-env" not in repr(s)
    explicit = CcxtSettings(exchange_id="kraken", api_key="mine", api_secret="x")
    assert explicit.api_key.get_secret_value() == "mine"
    monkeypatch.delenv("KRAKEN_API_KEY")
    monkeypatch.delenv("KRAKEN_API_SECRET")
    assert not CcxtSettings(exchange_id="kraken").has_credentials
