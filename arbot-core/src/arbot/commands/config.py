"""``arbot config show|validate CONFIG``: the resolved configuration, and a check of it.

``show`` prints every key with its default filled in, including each configured component's
own settings, with every secret masked. ``validate`` builds the bot without running it:
exit 0 when it would start, 2 with the error otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml

from arbot.bot import Bot
from arbot.cli_support import fail, load_for_cli
from arbot.errors import ArbotError
from arbot.redaction import redact

__all__ = ["config_group", "resolved_config"]


def _plain(value: object) -> Any:
    """JSON-compatible copy (paths and enums as text)."""
    return json.loads(json.dumps(value, default=str))


def resolved_config(bot: Bot) -> dict[str, Any]:
    """The bot's configuration with defaults and every component's validated settings, redacted."""
    doc: dict[str, Any] = _plain(redact(bot.config))
    doc.pop("source_file", None)
    doc["source"][bot.source.name] = _plain(redact(bot.source.settings))
    for det in bot.detectors:
        doc["detector"][det.name] = {"enabled": True, **_plain(redact(det.settings))}
    for rule in bot.risk_rules:
        settings = _plain(redact(rule.settings))
        if settings:
            doc["risk"][rule.name] = settings
    if bot.executor is not None:
        doc["executor"][bot.executor.name] = _plain(redact(bot.executor.settings))
    for sink in bot.sinks:
        doc["sinks"][sink.name] = _plain(redact(sink.settings))
    return doc


@click.group("config")
def config_group() -> None:
    """Show or validate a configuration file (TOML or YAML)."""


@config_group.command("show")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="override a key first")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
def show(config: Path, overrides: tuple[str, ...], fmt: str) -> None:
    """Print CONFIG resolved: defaults filled in, component settings validated, secrets masked."""
    cfg = load_for_cli(config, overrides)
    try:
        bot = Bot(cfg, mode=cfg.system.execution_mode)
    except ArbotError as exc:
        fail(exc)
    doc = resolved_config(bot)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), nl=False)


@config_group.command("validate")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="override a key first")
def validate(config: Path, overrides: tuple[str, ...]) -> None:
    """Check CONFIG: every key, every component and its settings (exit 0 valid, 2 invalid)."""
    cfg = load_for_cli(config, overrides)
    try:
        bot = Bot(cfg, mode=cfg.system.execution_mode)
    except ArbotError as exc:
        fail(exc)
    parts = [f"source {bot.source.name}", f"{len(bot.detectors)} detector(s)"]
    parts.append(f"{len(bot.risk_rules)} rule(s)")
    parts.append(f"executor {bot.executor.name if bot.executor is not None else 'none'}")
    parts.append(f"{len(bot.sinks)} sink(s)")
    click.echo(f"{config}: valid ({', '.join(parts)})")
