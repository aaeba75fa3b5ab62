"""The example plugin is discovered through its entry point and runs from a config."""

from pathlib import Path

from arbot.bot import Bot
from arbot.plugins import PluginHost

HERE = Path(__file__).resolve().parent.parent


def test_listed_by_the_plugin_host():
    found = {(c.kind, c.name): c for c in PluginHost().components()}
    assert found[("detector", "outlier_mid")].package == "arbot-example-plugin"
    assert found[("risk_rule", "trade_rate")].package == "arbot-example-plugin"


def test_runs_from_a_config(tmp_path):
    from arbot.config import load_config

    cfg = load_config(HERE / "example_backtest.toml")
    cfg.output_dir = str(tmp_path)
    bot = Bot(cfg, mode="backtest")
    summary = bot.run_backtest()
    assert summary["detected"] > 0
    assert summary["rejected_by_rule"].get("trade_rate", 0) > 0
    # never more than 3 approvals in any minute
    rule = next(r for r in bot.risk_rules if r.name == "trade_rate")
    assert len(rule.approved) <= 3
