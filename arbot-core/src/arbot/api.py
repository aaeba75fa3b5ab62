"""Everything a plugin author or a library user imports, from one module.

.. code-block:: python

    from arbot.api import Detector, ComponentSettings, Opportunity, Leg, Side, hookimpl

The names here are the public, documented contract of ``arbot-core``; modules behind them may
move between releases, these names will not without a deprecation.
"""

from __future__ import annotations

from arbot.book import OrderBook
from arbot.bot import Bot
from arbot.components import (
    BookObserver,
    BotContext,
    Component,
    Connector,
    Detector,
    Executor,
    MarketEvent,
    ReplayDecoder,
    RiskRule,
    Sink,
    Source,
)
from arbot.config import BotConfig, ComponentSettings, config_from_dict, load_config
from arbot.errors import ArbotError, ComponentFailure, ConfigError, DataError, DataLossError
from arbot.events import (
    BalanceSnapshot,
    BookUpdate,
    DailyPerformance,
    ExecutionReport,
    Fill,
    FillStatus,
    FxRate,
    Leg,
    Opportunity,
    RiskAction,
    RiskDecision,
    Side,
    SignalRecord,
    SignalStatus,
    TradeTick,
)
from arbot.hookspecs import hookimpl
from arbot.market import BookHealth, MarketInfo, MarketState, split_symbol
from arbot.sinks.base import BatchingSettings, BatchingSink

__all__ = [
    "ArbotError",
    "BalanceSnapshot",
    "BatchingSettings",
    "BatchingSink",
    "BookHealth",
    "BookObserver",
    "BookUpdate",
    "Bot",
    "BotConfig",
    "BotContext",
    "Component",
    "ComponentFailure",
    "ComponentSettings",
    "ConfigError",
    "Connector",
    "DailyPerformance",
    "DataError",
    "DataLossError",
    "Detector",
    "ExecutionReport",
    "Executor",
    "Fill",
    "FillStatus",
    "FxRate",
    "Leg",
    "MarketEvent",
    "MarketInfo",
    "MarketState",
    "Opportunity",
    "OrderBook",
    "ReplayDecoder",
    "RiskAction",
    "RiskDecision",
    "RiskRule",
    "Side",
    "SignalRecord",
    "SignalStatus",
    "Sink",
    "Source",
    "TradeTick",
    "config_from_dict",
    "hookimpl",
    "load_config",
    "split_symbol",
]
