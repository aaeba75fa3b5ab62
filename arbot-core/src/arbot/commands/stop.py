"""``arbot stop [CONFIG|RUN_DIR]``: the kill switch of a live run, from another process.

It sets the kill flag in the run's write-ahead journal (``execution.sqlite`` in the run's output
folder, or for a configuration with ``[executor] journal = "postgres"``, that database under the
bot's journal scope). The running live executor re-reads the flag every ``kill_check_interval_s``, blocks new
episodes and cancels every open order of the bot on every venue; the flag stays set across
restarts until ``arbot stop --clear``. :func:`engage_kill_switch` is the same for the bot's own
process (``arbot run --kill-on-sigterm``).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from arbot.bot import Bot
from arbot.cli_support import fail, load_for_cli
from arbot.clock import WallClock
from arbot.components import BotContext
from arbot.config import BotConfig, validate_settings
from arbot.errors import ArbotError
from arbot.execution.executors import LiveExecutor, LiveSettings, open_journal
from arbot.execution.journal import JournalStore, SqliteJournal
from arbot.execution.killswitch import KILL_FLAG, KillSwitch
from arbot.execution.runtime import AsyncioRuntime
from arbot.market import MarketState
from arbot.plugins import PluginHost
from arbot.portfolio import Portfolio
from arbot.stats import Counters

__all__ = ["engage_kill_switch", "journal_path", "stop_command"]

JOURNAL_FILE = "execution.sqlite"


def journal_path(target: Path, overrides: tuple[str, ...] = ()) -> Path:
    """The execution journal of ``target``: a run folder, or a configuration (its output folder)."""
    folder = target if target.is_dir() else load_for_cli(target, overrides).output_path
    path = folder / JOURNAL_FILE
    if not path.is_file():
        fail(f"no execution journal at {path}: {target} is not the folder or configuration of a live run")
    return path


def _plugin_journal(cfg: BotConfig, name: str) -> JournalStore:
    """The journal a plugin provides (``[executor] journal = "postgres"``...), opened as the
    live executor opens it, with the configuration's output folder."""
    market = MarketState()
    ctx = BotContext(
        config=cfg,
        market=market,
        portfolio=Portfolio(market),
        clock=WallClock(),
        counters=Counters(),
        mode="LIVE",
        host=PluginHost(),
    )
    return open_journal(name, ctx)


def _journal_name(cfg: BotConfig) -> str:
    """``[executor] journal`` of the live executor (its settings validated as the bot does)."""
    data = cfg.executor.settings_for(cfg.executor.name or "live")
    return validate_settings(LiveSettings, data, "executor", cfg.source_file).journal


def _open(target: Path, overrides: tuple[str, ...]) -> tuple[JournalStore, str]:
    """The execution journal of ``target`` and where it is (for the messages)."""
    if not target.is_dir():
        cfg = load_for_cli(target, overrides)
        try:
            name = _journal_name(cfg)
        except ArbotError as exc:
            fail(exc)
        if name != "sqlite":  # a plugin's journal (a database): not a file in the output folder
            try:
                return _plugin_journal(cfg, name), f"the {name} journal of {target}"
            except ArbotError as exc:
                fail(exc)
    path = journal_path(target, overrides)
    try:
        return SqliteJournal(path), str(path)
    except ArbotError as exc:
        fail(exc)


def engage_kill_switch(bot: Bot, reason: str) -> bool:
    """Set the kill flag of ``bot``'s live executor (its ``aclose`` then cancels every open
    order); False when the bot does not trade live."""
    if not isinstance(bot.executor, LiveExecutor):
        return False
    bot.executor.kill.set_flag(KILL_FLAG, reason)
    return True


@click.command("stop")
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option("--reason", default="arbot stop", show_default=True, help="why (journaled and alerted)")
@click.option("--clear", is_flag=True, help="clear the kill switch (an operator's decision)")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="override a config key")
def stop_command(target: Path, reason: str, clear: bool, overrides: tuple[str, ...]) -> None:
    """Engage (or --clear) the kill switch of the live run of TARGET (a config file or run folder).

    The running bot blocks new orders and cancels every open order on every venue; the switch
    stays in force after a restart until cleared."""
    journal, path = _open(target, overrides)
    try:
        switch = KillSwitch(journal, AsyncioRuntime(time.time))
        if clear:
            was = journal.flags().get(KILL_FLAG)
            switch.clear(reason if reason != "arbot stop" else "arbot stop --clear")
            click.echo(f"kill switch cleared in {path}" + ("" if was else " (it was not engaged)"))
        else:
            switch.set_flag(KILL_FLAG, reason)
            click.echo(
                f"kill switch engaged in {path}: {reason}\n"
                "the running bot blocks new orders and cancels every open order on every venue; "
                "it stays engaged across restarts until `arbot stop --clear`"
            )
    finally:
        journal.close()
