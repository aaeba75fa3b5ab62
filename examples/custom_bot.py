"""ArBot as a library: a detector and a risk rule written in this script, no package needed.

    python examples/custom_bot.py

The detector looks for a venue whose best bid is above another venue's best ask by more than
both taker fees (top of book only); the rule refuses trades during the first minute of data.
Both are registered through the same hooks an installed plugin uses, then the script builds a
bot from a configuration dict and runs a short backtest on the simulator.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from typing import ClassVar

from arbot import hookimpl
from arbot.bot import Bot
from arbot.components import Detector, RiskRule
from arbot.config import config_from_dict
from arbot.events import Leg, Opportunity, RiskDecision, Side


class TopOfBookCross(Detector):
    """Best bid on one venue above the best ask on another, net of taker fees."""

    name: ClassVar[str] = "top_of_book_cross"

    def on_book(self, venue: str, symbol: str, now: float) -> Sequence[Opportunity]:
        market = self.ctx.market
        out = []
        for buy in market.books_for(symbol):
            for sell in market.books_for(symbol):
                if buy is sell or buy.is_empty or sell.is_empty:
                    continue
                fees = self.ctx.taker_fee(buy.venue, symbol) + self.ctx.taker_fee(sell.venue, symbol)
                ask, ask_qty = buy.asks.best()  # type: ignore[misc]
                bid, bid_qty = sell.bids.best()  # type: ignore[misc]
                net = bid / ask - 1.0 - fees
                if net <= 0.001:
                    continue
                qty = min(ask_qty, bid_qty)
                out.append(
                    Opportunity(
                        id=self.ctx.new_id(),
                        ts=now,
                        strategy="top_of_book_cross",
                        symbol=symbol,
                        legs=(
                            Leg(buy.venue, symbol, Side.BUY, ask, qty),
                            Leg(sell.venue, symbol, Side.SELL, bid, qty),
                        ),
                        gross_spread_pct=(bid / ask - 1.0) * 100,
                        net_spread_pct=net * 100,
                        estimated_profit=qty * ask * net,
                    )
                )
        return out


class WarmUp(RiskRule):
    """No trading during the first 60 s of market data."""

    name: ClassVar[str] = "warm_up"
    first_ts: float | None = None

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        if self.first_ts is None:
            self.first_ts = now
        if now - self.first_ts < 60.0:
            return RiskDecision.reject(self.name, "warming up")
        return RiskDecision.approve(self.name)


class MyPlugin:
    """Registers the two classes above, exactly as an installed plugin would."""

    @hookimpl
    def arbot_register_detectors(self) -> list[type[Detector]]:
        return [TopOfBookCross]

    @hookimpl
    def arbot_register_risk_rules(self) -> list[type[RiskRule]]:
        return [WarmUp]


def main() -> None:
    config = config_from_dict(
        {
            "output_dir": tempfile.mkdtemp(prefix="arbot-custom-"),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance", "okx", "kucoin"]},
            "symbols": ["BTC/USDT", "ETH/USDT"],
            "backtest": {"seed": 3, "duration_s": 900},
            "detector": {"top_of_book_cross": {"enabled": True}},
            "risk": {"rules": ["warm_up", "stale_book", "exposure", "balance"]},
            "sinks": {"enabled": ["sqlite_journal"]},
        }
    )
    bot = Bot(config, plugins=[MyPlugin()], mode="backtest")
    summary = bot.run_backtest()
    print(
        f"events {summary['events']:,}  detected {summary['detected']}  executed {summary['executed']}  "
        f"rejected {summary['rejected_by_rule']}  net PnL {summary['pnl_usd']:.2f} USD  "
        f"fees {summary['fees_usd']:.2f} USD"
    )
    print(f"journal: {bot.sinks[0].path}")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
