"""Plugin registration: the ``arbot report`` command."""

from __future__ import annotations

from pathlib import Path

import click
from arbot.errors import ArbotError
from arbot.hookspecs import hookimpl

from arbot_report.render import write_report


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--run-id", default=None, help="the run to report (default: the latest in the journal)")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="where to write the HTML (default: RUN_DIR/report.html)",
)
def report(run_dir: Path, run_id: str | None, output: Path | None) -> None:
    """Write a self-contained HTML report of the run in RUN_DIR (from RUN_DIR/journal.sqlite)."""
    try:
        path = write_report(run_dir, run_id, output)
    except ArbotError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"report: {path}")


@hookimpl
def arbot_register_commands(cli: click.Group) -> None:
    """Add ``arbot report``."""
    cli.add_command(report)
