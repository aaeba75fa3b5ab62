"""The ArBot plugin contract: every hook a plugin may implement.

A plugin is a module or object with functions named like the hooks below, marked with
:data:`hookimpl`. ArBot finds plugins through the ``arbot`` entry-point group::

    [project.entry-points.arbot]
    my_plugin = "my_package.plugin"

Registration hooks return component *classes* (see :mod:`arbot.components`); each class's
``name`` must be unique within its kind across every installed plugin, or loading fails with
an error naming both packages. ArBot's own executors, risk rules, sinks and sources register
through these same hooks (``arbot._builtins``).

Hooks run at start-up and shutdown only. The engine resolves components into plain objects
and calls them directly while running: no hook is called per market event.

Set ``ARBOT_TRACE_HOOKS=1`` to print every hook call and its result to stderr.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from arbot.bot import Bot
    from arbot.components import (
        BotContext,
        Connector,
        Detector,
        Executor,
        ReplayDecoder,
        RiskRule,
        Sink,
        Source,
    )
    from arbot.config import BotConfig
    from arbot.execution.journal import JournalStore

PROJECT = "arbot"

#: Marker for hook specifications (used only in this module).
hookspec = pluggy.HookspecMarker(PROJECT)
#: Marker for hook implementations: decorate your plugin's functions with it.
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def arbot_register_connectors() -> Sequence[type[Connector]]:
    """Return the exchange connector classes this plugin provides.

    Each class subclasses :class:`arbot.components.Connector` and has a unique ``name``
    (conventionally the venue's lowercase name: ``"binance"``). ``[exchanges] enabled`` in a
    configuration refers to these names. A connector may also provide a
    :class:`~arbot.components.ReplayDecoder` so recorded captures of its venue can be replayed.
    """


@hookspec
def arbot_register_detectors() -> Sequence[type[Detector]]:
    """Return the opportunity detector classes this plugin provides.

    Each class subclasses :class:`arbot.components.Detector`. A configuration enables one with
    a ``[detector.<name>]`` table containing ``enabled = true``; the rest of the table is
    validated by the class's ``Settings`` model.
    """


@hookspec
def arbot_register_risk_rules() -> Sequence[type[RiskRule]]:
    """Return the risk rule classes this plugin provides.

    Each class subclasses :class:`arbot.components.RiskRule`. ``[risk] rules`` lists the rules a
    bot applies, in order; a third-party rule's settings go in ``[risk.<name>]``.
    """


@hookspec
def arbot_register_executors() -> Sequence[type[Executor]]:
    """Return the executor classes this plugin provides.

    Each class subclasses :class:`arbot.components.Executor`. ``[executor] name`` picks one;
    by default the execution mode's built-in executor runs (``backtest``, ``paper``, ``live``).
    """


@hookspec
def arbot_register_sinks() -> Sequence[type[Sink]]:
    """Return the sink classes (stores, metrics, alerts) this plugin provides.

    Each class subclasses :class:`arbot.components.Sink`, usually through
    :class:`arbot.sinks.base.BatchingSink`. ``[sinks] enabled`` lists the sinks a bot feeds;
    settings go in ``[sinks.<name>]``.
    """


@hookspec
def arbot_register_sources() -> Sequence[type[Source]]:
    """Return the market data source classes this plugin provides.

    Each class subclasses :class:`arbot.components.Source`. ``[source] name`` picks one.
    """


@hookspec
def arbot_register_decoders() -> Sequence[type[ReplayDecoder]]:
    """Return the replay decoder classes this plugin provides.

    Each class subclasses :class:`arbot.components.ReplayDecoder`, sets ``venue`` (the name
    ``[source.replay] venue`` uses) and is built without arguments. A recording of that venue
    then replays with only the plugin that parses it installed — no connector needed. When no
    decoder is registered for a venue, the replay source falls back to the venue connector's
    :meth:`~arbot.components.Connector.replay_decoder`.
    """


@hookspec(firstresult=True)
def arbot_open_journal(name: str, ctx: BotContext) -> JournalStore | None:
    """Open the write-ahead execution journal named ``name``, or return None if it is not yours.

    ``[executor] journal`` picks the store the order manager writes every order intent to
    before the request leaves, and every transition after it. ``memory`` and ``sqlite`` are
    built in; any other name is asked of the plugins through this hook, and the first store
    returned is used (none: the run fails with an error naming the journal). The store must
    implement :class:`arbot.execution.journal.JournalStore` with the same durability promise as
    the embedded one: when a write method returns, the write is committed and survives a crash
    of the process; when it cannot be committed, the method raises
    :class:`arbot.execution.journal.JournalError` (the order is then not sent). Settings come
    from the plugin's own section of ``ctx.config``.
    """


@hookspec
def arbot_register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``arbot`` command line.

    ``cli`` is the top-level :class:`click.Group`; add commands or groups to it
    (``cli.add_command(db)``). A storage plugin adds ``arbot db migrate``, a reporting plugin
    ``arbot report``. Names must not clash with ArBot's own commands or another plugin's.
    """


@hookspec
def arbot_configure(config: BotConfig) -> None:
    """Inspect the configuration before the bot is built.

    Raise :class:`arbot.errors.ConfigError` to refuse a configuration this plugin cannot run
    with; the message is shown to the user as is.
    """


@hookspec
def arbot_started(bot: Bot) -> None:
    """Called once the bot is built and its sinks are open, before the first event."""


@hookspec
def arbot_stopping(bot: Bot, summary: dict[str, Any]) -> None:
    """Called once when the bot stops, after the last event, before the sinks close.

    ``summary`` is the run summary (counts, PnL, fees...) that the CLI prints.
    """
