"""Cross-quote detection: KRW markets against USDT markets through an FX rate (kimchi premium)."""

from __future__ import annotations

import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.events import BookUpdate, FxRate, Side


def _bot(tmp_path, fx=None):
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "system": {"execution_mode": "backtest"},
            "exchanges": {
                "enabled": ["binance", "upbit"],
                "fees": {"binance": {"taker_pct": 0.1}, "upbit": {"taker_pct": 0.05}},
            },
            "symbols": ["BTC/USDT"],
            "detector": {
                "spatial": {
                    "enabled": True,
                    "quotes": ["USDT", "KRW"],
                    "min_spread_pct": 0.5,
                    "min_depth_usd": 100,
                }
            },
            "executor": {"name": "none"},
            "risk": {"max_position_per_coin_usd": 1e6, "max_position_per_exchange_usd": 1e6},
            "portfolio": {"fx_per_usd": fx or {}},
            "sinks": {"enabled": []},
        }
    )
    bot = Bot(cfg, mode="backtest")
    out = []
    bot.engine._record = out.append  # type: ignore[method-assign]
    return bot, out


def book(ts, venue, symbol, bid, ask, qty=0.5):
    return BookUpdate(ts, venue, symbol, [(bid, qty)], [(ask, qty)], True, ts)


def test_premium_through_the_on_venue_usdt_krw_book(tmp_path):
    bot, out = _bot(tmp_path)
    eng = bot.engine
    eng.process(book(10.0, "upbit", "USDT/KRW", 1_399.0, 1_401.0, 10_000.0))  # 1 USD = 1,400 KRW
    eng.process(book(10.1, "binance", "BTC/USDT", 59_990.0, 60_000.0))
    # Upbit BTC at 3 % over Binance in dollars: 60,000 * 1.03 * 1,400 KRW
    krw_bid = 60_000.0 * 1.03 * 1_400.0
    eng.process(book(10.2, "upbit", "BTC/KRW", krw_bid, krw_bid + 10_000.0))
    [rec] = out
    opp = rec.opportunity
    assert [(leg.venue, leg.symbol, leg.side) for leg in opp.legs] == [
        ("binance", "BTC/USDT", Side.BUY),
        ("upbit", "BTC/KRW", Side.SELL),
    ]
    assert opp.metadata["premium_pct"] == pytest.approx(3.0, abs=1e-9)
    assert opp.metadata["sell_quote_usd"] == pytest.approx(1 / 1_400.0)
    cost = 0.5 * 60_000.0 * 1.001
    proceeds = 0.5 * krw_bid * 0.9995 / 1_400.0
    assert opp.estimated_profit == pytest.approx(proceeds - cost)
    assert opp.net_spread_pct == pytest.approx((proceeds / cost - 1) * 100)


def test_streamed_rate_is_used_and_a_small_premium_is_not_traded(tmp_path):
    bot, out = _bot(tmp_path, fx={"KRW": 1_000.0})  # a stale configured rate
    eng = bot.engine
    eng.process(FxRate(9.0, "KRW", 1_400.0))  # the streamed rate wins over the configured one
    eng.process(book(10.1, "binance", "BTC/USDT", 59_990.0, 60_000.0))
    eng.process(book(10.2, "upbit", "BTC/KRW", 60_000.0 * 1.004 * 1_400.0, 60_000.0 * 1.005 * 1_400.0))
    assert out == []  # 0.4 % premium does not clear 0.5 % + fees
    eng.process(FxRate(11.0, "KRW", 1_300.0))  # the won strengthens: the same KRW price is now 8 % rich
    eng.process(book(11.05, "binance", "BTC/USDT", 59_990.0, 60_000.0))
    eng.process(book(11.1, "upbit", "BTC/KRW", 60_000.0 * 1.004 * 1_400.0, 60_000.0 * 1.005 * 1_400.0))
    assert len(out) == 1
    assert out[0].opportunity.metadata["premium_pct"] == pytest.approx((1.004 * 1_400 / 1_300 - 1) * 100)


def test_without_any_rate_krw_books_are_not_compared(tmp_path):
    bot, out = _bot(tmp_path)
    bot.ctx.portfolio.configured_fx.clear()
    bot.engine.process(book(10.1, "binance", "BTC/USDT", 59_990.0, 60_000.0))
    bot.engine.process(book(10.2, "upbit", "BTC/KRW", 90_000_000.0, 90_010_000.0))
    assert out == []
