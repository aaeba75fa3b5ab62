"""The example configuration: a paper bot against three venue emulators (loopback) with the
rebalancer in dry run; its simulated transfers and their fees reach the summary."""

from __future__ import annotations

import asyncio
from pathlib import Path

from arbot.bot import Bot

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "rebalancer_paper.toml"


def test_the_example_runs_on_paper_and_rebalances(tmp_path, capsys):
    bot = Bot.from_file(EXAMPLE, [f"output_dir={tmp_path}", "rebalancer.check_interval_minutes=0.05"])
    summary = asyncio.run(asyncio.wait_for(bot.arun(duration_s=8.0), 60))
    reb = summary["sinks"]["rebalancer"]
    assert reb["mode"] == "simulated" and summary["exit_code"] == 0
    # Binance starts with 160k of the 300k USDT: the first check sends some to OKX and Bybit
    assert summary["counters"]["rebalancer_transfers"] >= 2 and float(reb["transfer_fees_usd"]) >= 2.0
    assert float(reb["max_imbalance_pct"]) >= 60.0
