"""A backtest writes its metrics to a node-exporter textfile; the numbers match the run summary."""

from __future__ import annotations

from pathlib import Path

from arbot.bot import Bot
from arbot.config import config_from_dict
from arbot_prometheus.events import rejecting_rule
from prometheus_client.parser import text_string_to_metric_families


def _backtest(tmp_path: Path) -> tuple[dict, dict[str, list]]:
    cfg = config_from_dict(
        {
            "output_dir": str(tmp_path),
            "symbols": ["BTC/USDT", "ETH/USDT"],
            "system": {"execution_mode": "backtest"},
            "exchanges": {"enabled": ["binance", "okx", "upbit"]},
            "backtest": {"seed": 7, "duration_s": 900},
            "source": {
                "name": "simulator",
                "settings": {"update_interval_ms": 100, "dislocations_per_hour": 60},
            },
            "detector": {"spatial": {"enabled": True, "min_spread_pct": 0.25, "min_depth_usd": 1000}},
            "sinks": {"enabled": ["prometheus"]},
        }
    )
    summary = Bot(cfg, mode="backtest").run_backtest()
    text = (tmp_path / "metrics" / "arbot.prom").read_text()
    families = {f.name: f.samples for f in text_string_to_metric_families(text)}
    return summary, families


def _total(samples: list, name: str, **labels: str) -> float:
    return sum(
        s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_backtest_textfile_counts_match_the_summary(tmp_path):
    summary, fam = _backtest(tmp_path)
    assert summary["detected"] > 10 and summary["executed"] > 0
    opp = fam["arbot_opportunities"]
    assert _total(opp, "arbot_opportunities_total") == summary["detected"]
    assert _total(opp, "arbot_opportunities_total", status="EXECUTED") == summary["executed"]
    assert _total(opp, "arbot_opportunities_total", status="REJECTED") == summary["rejected"]
    rej = fam["arbot_opportunities_rejected"]
    for rule, n in summary["rejected_by_rule"].items():
        assert _total(rej, "arbot_opportunities_rejected_total", rule=rule) == n
    # component state collected at the end of the run: engine events, PnL
    assert _total(fam["arbot_engine_events"], "arbot_engine_events_total") == summary["events"]
    assert abs(_total(fam["arbot_pnl_usd"], "arbot_pnl_usd") - summary["pnl_usd"]) < 1e-6
    realised = _total(fam["arbot_realized_pnl_usd"], "arbot_realized_pnl_usd", strategy="spatial")
    assert abs(realised - summary["pnl_usd"]) < 1e-6
    # a backtest has no wall-clock decision latency: the histogram exists but stays empty
    assert _total(fam.get("arbot_tick_to_decision_seconds", []), "arbot_tick_to_decision_seconds_count") == 0
    market = _total(fam["arbot_market_events"], "arbot_market_events_total")
    assert market == summary["events"]


def test_labels_are_bounded(tmp_path):
    _, fam = _backtest(tmp_path)
    rules = {s.labels["rule"] for s in fam["arbot_opportunities_rejected"]}
    assert rules <= set(Bot.__init__.__globals__["BotConfig"]().risk.rules) | {"unknown"}
    statuses = {s.labels["status"] for s in fam["arbot_orders"]}
    assert statuses <= {"PENDING", "FILLED", "PARTIAL", "CANCELLED", "FAILED"}


def test_rejecting_rule_takes_the_rule_never_the_free_text():
    assert rejecting_rule("exposure: okx inventory would move more than 50000") == "exposure"
    assert rejecting_rule("no rule here") == "unknown"
    assert rejecting_rule(": empty") == "unknown"
