"""Reading runs from a journal, and the clear errors for what is not one."""

from __future__ import annotations

import sqlite3

import pytest
from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot.errors import ArbotError
from arbot_report import load_run, render_report
from arbot_report.charts import build_charts, rejecting_rule


def _backtest(tmp_path, seed: int) -> str:
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "symbols": ["BTC/USDT", "ETH/USDT"],
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance", "okx"]},
            "backtest": {"seed": seed, "duration_s": 600},
            "source": {
                "name": "simulator",
                "settings": {"update_interval_ms": 200, "dislocations_per_hour": 60},
            },
            "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.2, "min_depth_usd": 500}},
            "sinks": {"enabled": ["sqlite_journal"]},
        }
    )
    bot = Bot(cfg, mode="backtest")
    summary = bot.run_backtest()
    return str(summary["run_id"])


def test_latest_run_by_default_and_a_chosen_one(tmp_path):
    first = _backtest(tmp_path, 1)
    second = _backtest(tmp_path, 2)
    assert first != second
    assert load_run(tmp_path).run_id == second
    run = load_run(tmp_path, first)
    assert run.run_id == first and run.signals and run.snapshots
    assert {s["run_id"] for s in run.signals} == {first}
    html = render_report(run)
    assert html.count('class="plotly-graph-div"') == len(build_charts(run))
    assert "cdn.plot.ly" not in html.split("</script>", 1)[1]  # plotly.js inlined, not fetched


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ArbotError, match="no journal at"):
        load_run(tmp_path)
    (tmp_path / "journal.sqlite").write_bytes(b"")
    sqlite3.connect(tmp_path / "journal.sqlite").execute("create table x (a)").connection.commit()
    with pytest.raises(ArbotError, match="not an ArBot journal: table"):
        load_run(tmp_path)
    other = tmp_path / "o"
    _backtest(other, 1)
    with pytest.raises(ArbotError, match="run 'nope' is not in"):
        load_run(other, "nope")


def test_corrupt_journal_and_unwritable_output(tmp_path):
    from arbot_report import write_report

    (tmp_path / "journal.sqlite").write_bytes(b"this is not sqlite, it was truncated by a full disk" * 100)
    with pytest.raises(ArbotError, match="is not a readable SQLite journal"):
        load_run(tmp_path)
    good = tmp_path / "good"
    _backtest(good, 1)
    (tmp_path / "blocker").write_text("a file, not a folder")
    with pytest.raises(ArbotError, match="cannot write the report to"):
        write_report(good, output=tmp_path / "blocker" / "report.html")


def test_cli_report_fails_clearly_without_a_journal(tmp_path):
    from arbot_report.plugin import report
    from click.testing import CliRunner

    res = CliRunner().invoke(report, [str(tmp_path)])
    assert res.exit_code == 1 and "no journal at" in res.output


def test_rejection_rule_from_reason():
    assert rejecting_rule("exposure: okx inventory would move") == "exposure"
    assert rejecting_rule(None) == "other"
