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


def test_promtool_lints_the_exposition_and_the_catalogue_lists_every_metric(tmp_path):
    import re
    import shutil
    import subprocess

    _, fam = _backtest(tmp_path)
    text = (tmp_path / "metrics" / "arbot.prom").read_text()
    promtool = shutil.which("promtool")
    if promtool is not None:  # naming conventions: units, _total on counters, no type in names
        res = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
        )
        assert res.returncode == 0, res.stdout + res.stderr
    catalogue = (Path(__file__).resolve().parents[3] / "docs" / "metrics.md").read_text()
    documented = {re.sub(r"_total$", "", m) for m in re.findall(r"^\| `(arbot_\w+)`", catalogue, re.M)}
    exported = {name for name in fam if name.startswith("arbot_") and not name.endswith("_created")}
    assert exported <= documented, f"undocumented: {sorted(exported - documented)}"
    assert not {n for n in documented - exported if n != "arbot_scrape_torn_reads"}, sorted(
        documented - exported
    )


def test_episodes_match_the_executor_counters(tmp_path):
    summary, fam = _backtest(tmp_path)
    episodes = {k.split(":", 1)[1]: v for k, v in summary["counters"].items() if k.startswith("episodes:")}
    assert episodes, summary["counters"]
    for state, n in episodes.items():
        assert _total(fam["arbot_episodes"], "arbot_episodes_total", state=state) == n
    orders = {k.split(":", 1)[1]: v for k, v in summary["counters"].items() if k.startswith("orders:")}
    for status, n in orders.items():
        assert _total(fam["arbot_executor_orders"], "arbot_executor_orders_total", status=status) == n


def test_execution_events_are_counted():
    from arbot.execution.events import (
        Alert,
        EpisodeTransition,
        KillSwitchChanged,
        OrderTransition,
        ResidualExposure,
    )
    from arbot.trading.types import OrderStatus
    from arbot_prometheus.events import EventMetrics
    from prometheus_client import CollectorRegistry

    reg = CollectorRegistry()
    m = EventMetrics(reg)
    m.observe_batch(
        [
            OrderTransition(
                1.0, "e1", "c1", "okx", "BTC/USDT", "entry", OrderStatus.NEW, OrderStatus.FILLED, 1.0, "fill"
            ),
            EpisodeTransition(1.0, "e1", "o1", "ENTERING", "UNWOUND", "hedge failed"),
            ResidualExposure(1.0, "e1", "okx", "BTC", 0.01, "unwind short"),
            Alert(1.0, "critical", "unwind failed", "e1"),
            KillSwitchChanged(1.0, True, "operator"),
        ]
    )
    assert reg.get_sample_value("arbot_order_transitions_total", {"venue": "okx", "status": "FILLED"}) == 1
    assert reg.get_sample_value("arbot_episode_transitions_total", {"state": "UNWOUND"}) == 1
    assert reg.get_sample_value("arbot_residual_exposures_total", {"venue": "okx", "asset": "BTC"}) == 1
    assert reg.get_sample_value("arbot_execution_alerts_total", {"level": "critical"}) == 1
    assert reg.get_sample_value("arbot_kill_switch_engaged") == 1
    m.observe(KillSwitchChanged(2.0, False, "cleared"))
    assert reg.get_sample_value("arbot_kill_switch_engaged") == 0
