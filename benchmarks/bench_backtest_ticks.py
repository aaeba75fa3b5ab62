"""Event-driven backtest throughput on real quote ticks: ArBot's engine vs nautilus_trader.

The ticks are the Binance BTCUSDT spot ``bookTicker`` messages of the shared capture
(``ws/binance/hbt_binance_spot_btcusdt_2024-08-08T2354.ndjson.gz``, 28,040 ticks). Both engines
run a trivial strategy that counts the ticks it is handed; the ticks are built before timing.
ArBot runs twice: without an executor, and with the execution layer in place (the backtest
executor: order manager, leg-risk machine and simulated venues, watching every book update),
so the execution layer's cost per tick is the difference between the two rows. The engines
run interleaved, five rounds, and the medians are compared (the machine may be shared).
nautilus_trader is the peer named in DESIGN.md; when it is not installed its row says so.
"""

from __future__ import annotations

import gzip
import statistics
import tempfile
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import orjson
from arbot import hookimpl
from arbot.bot import Bot
from arbot.components import Detector
from arbot.config import config_from_dict
from arbot.events import BookUpdate, Opportunity
from arbot.testing.data import shared_data_dir

CAPTURE = "ws/binance/hbt_binance_spot_btcusdt_2024-08-08T2354.ndjson.gz"


def load_ticks() -> list[tuple[int, float, float, float, float]]:
    """(ts_ns, bid, bid_qty, ask, ask_qty) of every bookTicker message."""
    base = shared_data_dir()
    if base is None:
        raise SystemExit(f"shared data not found: {CAPTURE}")
    out = []
    with gzip.open(base / CAPTURE, "rb") as fh:
        for line in fh:
            rec = orjson.loads(line)
            msg = rec.get("msg")
            if not msg or not msg.get("stream", "").endswith("@bookTicker"):
                continue
            d = msg["data"]
            out.append((rec["local_ts_ns"], float(d["b"]), float(d["B"]), float(d["a"]), float(d["A"])))
    return out


class CountTicks(Detector):
    """Counts book changes; finds nothing."""

    name: ClassVar[str] = "count_ticks"
    seen = 0

    def on_book(self, venue: str, symbol: str, now: float) -> Sequence[Opportunity]:
        CountTicks.seen += 1
        return ()


class CountPlugin:
    @hookimpl
    def arbot_register_detectors(self) -> list[type[Detector]]:
        return [CountTicks]


def run_arbot(ticks: list[tuple[int, float, float, float, float]], executor: str = "none") -> float:
    cfg = config_from_dict(
        {
            "output_dir": tempfile.mkdtemp(prefix="arbot-bench-"),
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance"]},
            "symbols": ["BTC/USDT"],
            "detector": {"count_ticks": {"enabled": True}},
            "risk": {"rules": []},
            "executor": {"name": executor},
            "sinks": {"enabled": []},
        }
    )
    bot = Bot(cfg, plugins=[CountPlugin()], mode="backtest")
    events = [
        BookUpdate(ns / 1e9, "binance", "BTC/USDT", ((b, bq),), ((a, aq),), True, ns / 1e9)
        for ns, b, bq, a, aq in ticks
    ]
    CountTicks.seen = 0
    t0 = time.process_time()
    bot.engine.run(events)
    wall = time.process_time() - t0
    assert CountTicks.seen == len(ticks), (CountTicks.seen, len(ticks))
    return len(ticks) / wall


def run_nautilus(ticks: list[tuple[int, float, float, float, float]]) -> float | None:
    try:
        from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
        from nautilus_trader.config import LoggingConfig, StrategyConfig
        from nautilus_trader.model.currencies import BTC, USDT
        from nautilus_trader.model.data import QuoteTick
        from nautilus_trader.model.enums import AccountType, OmsType
        from nautilus_trader.model.identifiers import TraderId, Venue
        from nautilus_trader.model.objects import Money
        from nautilus_trader.test_kit.providers import TestInstrumentProvider
        from nautilus_trader.trading.strategy import Strategy
    except ImportError:
        return None
    instrument = TestInstrumentProvider.btcusdt_binance()

    class Counter(Strategy):  # type: ignore[misc]
        count = 0

        def on_start(self) -> None:
            self.subscribe_quote_ticks(instrument.id)

        def on_quote_tick(self, tick: Any) -> None:
            Counter.count += 1

    engine = BacktestEngine(
        config=BacktestEngineConfig(trader_id=TraderId("BENCH-001"), logging=LoggingConfig(log_level="ERROR"))
    )
    engine.add_venue(
        venue=Venue("BINANCE"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        base_currency=None,
        starting_balances=[Money(1_000_000, USDT), Money(10, BTC)],
    )
    engine.add_instrument(instrument)
    data = [
        QuoteTick(
            instrument_id=instrument.id,
            bid_price=instrument.make_price(b),
            ask_price=instrument.make_price(a),
            bid_size=instrument.make_qty(bq),
            ask_size=instrument.make_qty(aq),
            ts_event=ns,
            ts_init=ns,
        )
        for ns, b, bq, a, aq in ticks
    ]
    engine.add_data(data)
    engine.add_strategy(Counter(config=StrategyConfig()))
    t0 = time.process_time()
    engine.run()
    wall = time.process_time() - t0
    assert Counter.count == len(ticks), (Counter.count, len(ticks))
    engine.dispose()
    return len(ticks) / wall


def main() -> None:
    ticks = load_ticks()
    rounds = 5
    print(f"event-driven backtest on {len(ticks):,} real Binance BTCUSDT quote ticks (median of {rounds})")
    bare: list[float] = []
    with_exec: list[float] = []
    peer: list[float] = []
    for _ in range(rounds):
        bare.append(run_arbot(ticks))
        with_exec.append(run_arbot(ticks, "backtest"))
        nt_rate = run_nautilus(ticks)
        if nt_rate is not None:
            peer.append(nt_rate)
    arbot = statistics.median(bare)
    arbot_exec = statistics.median(with_exec)
    print(f"{'engine':<44}{'ticks/s':>12}{'ratio':>10}")
    print(f"{'ArBot Engine, no executor':<44}{arbot:>12,.0f}{'1.00':>10}")
    print(f"{'ArBot Engine, execution layer in place':<44}{arbot_exec:>12,.0f}{arbot_exec / arbot:>10.2f}")
    cost_us = 1e6 / arbot_exec - 1e6 / arbot
    print(f"execution layer cost per tick: {cost_us:+.2f} us (median rates; noise is of the same order)")
    if not peer:
        print(f"{'nautilus_trader BacktestEngine':<44}{'not installed':>12}")
    else:
        nt = statistics.median(peer)
        print(f"{'nautilus_trader BacktestEngine':<44}{nt:>12,.0f}{nt / arbot:>10.2f}")
        print(
            f"ArBot / nautilus: {arbot / nt:.2f}x without executor, {arbot_exec / nt:.2f}x with the "
            f"execution layer (target >= 3x)"
        )


if __name__ == "__main__":
    main()
