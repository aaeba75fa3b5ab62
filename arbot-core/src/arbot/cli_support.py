"""What every ``arbot`` sub-command shares: consoles, exit codes, one-line errors, logging set-up
and configuration loading with ``--set`` overrides. Plugin commands use it too."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, NoReturn

import attrs
import click
from rich.console import Console
from rich.markup import escape

from arbot.config import BotConfig, load_config
from arbot.logs import configure_logging

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CliOptions",
    "console",
    "err_console",
    "fail",
    "load_for_cli",
    "setup_logging",
]

#: Exit codes: 0 success, 1 runtime failure or lost data, 2 usage or configuration error.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def fail(exc: BaseException | str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one error line (the message is never read as markup) and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
    sys.exit(code)


@attrs.define
class CliOptions:
    """Global options: log level and format (the configuration's unless given on the command line)."""

    log_level: str | None = None
    log_format: Literal["text", "json"] | None = None


def setup_logging(cfg: BotConfig | None = None) -> None:
    """Configure logging from the global options, else the configuration's ``[system]``."""
    ctx = click.get_current_context(silent=True)
    opts = (ctx.find_object(CliOptions) if ctx is not None else None) or CliOptions()
    level = opts.log_level or (cfg.system.log_level if cfg is not None else "WARNING")
    fmt = opts.log_format or (cfg.system.log_format if cfg is not None else "text")
    configure_logging(level, fmt)


def load_for_cli(config: Path, overrides: tuple[str, ...] = (), output_dir: Path | None = None) -> BotConfig:
    """Load CONFIG with ``--set`` overrides (and an output folder), set up logging; exit 2 on errors."""
    from arbot.errors import ArbotError

    try:
        cfg = load_config(config, list(overrides))
    except ArbotError as exc:
        fail(exc)
    if output_dir is not None:
        cfg.output_dir = str(output_dir.resolve())
    setup_logging(cfg)
    return cfg
