"""Bot configuration: pydantic models loaded from TOML or YAML.

The keys and defaults are the TRD's §6.1 (``configs/default.yaml``) and §3.4 ``RiskConfig``,
written as TOML. Component settings (``[detector.<name>]``, ``[sinks.<name>]``, ``[source]``)
are validated by the component's own ``Settings`` model when the bot resolves it, with the
same error format. Secrets come from the environment and are kept as ``SecretStr``.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from arbot.errors import ConfigError
from arbot.redaction import redact

__all__ = [
    "AlertsConfig",
    "BacktestConfig",
    "BotConfig",
    "ComponentSettings",
    "DatabaseConfig",
    "ExchangesConfig",
    "ExecutorConfig",
    "PortfolioConfig",
    "RiskConfig",
    "SinksConfig",
    "SourceConfig",
    "SystemConfig",
    "apply_overrides",
    "format_validation_error",
    "load_config",
    "read_config_data",
    "validate_settings",
]

M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    """Base for config sections: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class ComponentSettings(_Strict):
    """Base class for a component's ``Settings`` model (detectors, sinks, sources, rules)."""


class _WithComponentTables(BaseModel):
    """A section whose own keys are fixed and whose sub-tables are component settings.

    ``[sinks] enabled = [...]`` is a key of the section; ``[sinks.sqlite_journal]`` is the table
    of the component named ``sqlite_journal``, validated later by that component's ``Settings``.
    A key that is neither a field nor a table is an error.
    """

    model_config = ConfigDict(extra="allow", validate_default=True)
    #: Extra keys must be tables (an unknown scalar key is reported at its own key).
    __pydantic_extra__: dict[str, dict[str, Any]] = Field(init=False)

    @classmethod
    def _section(cls) -> str:
        return cls.__name__.removesuffix("Config").lower()

    def table(self, name: str) -> dict[str, Any]:
        """The settings table of component ``name`` (empty when absent)."""
        value = (self.model_extra or {}).get(name, {})
        return dict(value) if isinstance(value, dict) else {}

    def tables(self) -> dict[str, dict[str, Any]]:
        """Every component table of this section, by component name."""
        return {k: dict(v) for k, v in (self.model_extra or {}).items() if isinstance(v, dict)}


class SystemConfig(_Strict):
    """``[system]``: execution mode and logging."""

    execution_mode: Literal["backtest", "paper", "live"] = Field(
        "paper", description="backtest (virtual clock, simulated fills), paper (wall clock, simulated fills) "
        "or live (real orders; needs two opt-ins)"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="threshold of the `arbot` loggers; `-v` / `--log-level` on the command line win"
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text for people, json (one object per line) for log collectors such as Loki"
    )
    timezone: str = Field("UTC", description="time zone of daily rows (daily PnL, daily loss limits)")
    ws_transport: Literal["auto", "picows", "websockets"] = Field(
        "auto",
        description="WebSocket client under every connector: picows (fast, Cython; the "
        "arbot-core[fast] extra), websockets (pure Python) or auto (picows when installed); a "
        "connection picows cannot serve (per-message compression) uses websockets and logs why",
    )
    on_component_error: Literal["stop", "disable"] | None = Field(
        None,
        description="when a detector, risk rule or sink raises: stop (flush sinks, name it, exit 1) or "
        "disable (count it, keep the rest running, exit 1 at the end); default stop in backtests, "
        "disable in paper and live",
    )

    def component_error_policy(self, mode: str) -> Literal["stop", "disable"]:
        """The policy in force for ``mode`` (the configured one, else the mode's default)."""
        if self.on_component_error is not None:
            return self.on_component_error
        return "stop" if mode.lower() == "backtest" else "disable"


class FeeConfig(_Strict):
    """Taker and maker fee of one venue, in percent (overrides the connector's metadata)."""

    taker_pct: float = Field(
        0.1,
        ge=0.0,
        le=5.0,
        description="taker fee in percent (0.1 = 0.1 %); wins over the connector's metadata",
    )
    maker_pct: float = Field(0.1, ge=-1.0, le=5.0, description="maker fee in percent; negative for a rebate")


class ExchangesConfig(_Strict):
    """``[exchanges]``: which venues the bot uses, and optional fee overrides per venue."""

    enabled: list[str] = Field(
        default_factory=lambda: ["binance", "okx", "bybit", "upbit", "kucoin"],
        description=(
            "venues the bot uses, by name; each needs an installed connector (the simulator also "
            "knows the major venues and any venue given a fee in [exchanges.fees])"
        ),
    )
    fees: dict[str, FeeConfig] = Field(
        default_factory=dict,
        description=(
            "fee overrides by venue name (`[exchanges.fees.<venue>]`); they win over the connector's"
            " metadata"
        ),
    )
    default_fee: FeeConfig = Field(
        default_factory=FeeConfig,
        description="fees of a venue with neither an override nor fees in its connector's metadata",
    )

    def taker_fee(self, venue: str) -> float:
        """Taker fee of ``venue`` as a fraction (0.001 for 0.1 %)."""
        return self.fees.get(venue, self.default_fee).taker_pct / 100.0


class RiskConfig(_WithComponentTables):
    """``[risk]``: the TRD §3.4 ``RiskConfig``, the stale-book limit and the rule list; a rule's
    own settings go in ``[risk.<rule>]``."""

    max_position_per_coin_usd: float = Field(
        10_000,
        gt=0,
        description="largest USD notional of one leg; a larger opportunity is resized to it (exposure rule)",
    )
    max_position_per_exchange_usd: float = Field(
        50_000,
        gt=0,
        description=(
            "how far one venue's non-USD holdings may move from their starting value, in USD; "
            "a trade that brings them back is always allowed (exposure rule)"
        ),
    )
    max_total_exposure_usd: float = Field(
        100_000,
        gt=0,
        description=(
            "largest unhedged position, each coin's holdings change netted across venues, in USD "
            "(exposure rule)"
        ),
    )
    max_daily_loss_usd: float = Field(
        500,
        gt=0,
        description=(
            "stop trading for the rest of the day once the day's loss reaches this, in USD "
            "(daily_loss rule)"
        ),
    )
    max_daily_loss_pct: float = Field(
        1.0,
        gt=0,
        le=100,
        description="the same daily limit as a percentage of the day's starting equity (daily_loss rule)",
    )
    max_drawdown_pct: float = Field(
        5.0,
        gt=0,
        le=100,
        description="stop trading while equity is this far below its peak, in percent (max_drawdown rule)",
    )
    price_deviation_threshold_pct: float = Field(
        10.0,
        gt=0,
        description=(
            "reject a leg priced further than this from the cross-venue median, in percent "
            "(price_deviation rule)"
        ),
    )
    max_spread_pct: float = Field(
        5.0,
        gt=0,
        description=(
            "reject gross spreads wider than this, in percent: too good to be true is usually bad "
            "data (spread_anomaly rule)"
        ),
    )
    consecutive_loss_limit: int = Field(
        10,
        ge=1,
        description="losing trades in a row that open the circuit breaker (circuit_breaker rule)",
    )
    cooldown_minutes: float = Field(
        30,
        ge=0,
        description="how long the circuit breaker stays open, in minutes of market time",
    )
    max_book_age_ms: float = Field(
        2_000,
        gt=0,
        description=(
            "reject when a leg's book is older than this, in milliseconds, or not live (stale_book "
            "rule)"
        ),
    )
    rules: list[str] = Field(
        default_factory=lambda: [
            "stale_book",
            "spread_anomaly",
            "price_deviation",
            "circuit_breaker",
            "daily_loss",
            "max_drawdown",
            "exposure",
            "balance",
        ],
        description="risk rules applied in order; the first rejection wins",
    )


class SourceConfig(_WithComponentTables):
    """``[source]``: where market data comes from; the source's settings go in
    ``[source.<name>]`` (``[source.simulator]``, ``[source.replay]``, ``[source.live]``)."""

    name: str = Field("simulator", description="the source component: simulator, replay, live, ...")


class ExecutorConfig(_WithComponentTables):
    """``[executor]``: which executor runs approved opportunities.

    Keys other than ``name`` and ``live_trading_opt_in`` (``latency_ms``, ...) are settings of
    whichever executor runs, validated by its ``Settings``; ``[executor.<name>]`` tables hold
    settings for one executor only and win over the shared keys.
    """

    __pydantic_extra__: dict[str, Any] = Field(init=False)

    name: str | None = Field(None, description="the executor component; default: the execution mode's")
    live_trading_opt_in: bool = Field(
        False, description="first of the two opt-ins live trading needs (the other: ARBOT_LIVE_TRADING=1)"
    )

    def settings_for(self, name: str) -> dict[str, Any]:
        """Shared keys overlaid with ``[executor.<name>]``."""
        shared = {k: v for k, v in (self.model_extra or {}).items() if not isinstance(v, dict)}
        shared.update(self.table(name))
        return shared


class PortfolioConfig(_Strict):
    """``[portfolio]``: starting balances, the same on every venue unless overridden."""

    initial: dict[str, float] = Field(
        default_factory=lambda: {"USDT": 100_000.0, "BTC": 2.0, "ETH": 30.0},
        description="starting balance of each asset (asset = amount) on every venue",
    )
    per_venue: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description=(
            "starting balances of one venue (`[portfolio.per_venue.<venue>]`), used there instead of"
            " initial"
        ),
    )
    snapshot_interval_s: float = Field(
        60.0,
        gt=0,
        description="how often balances go to the sinks (portfolio_snapshots), in seconds of market time",
    )
    usd_assets: list[str] = Field(
        default_factory=lambda: ["USD", "USDT", "USDC", "BUSD", "DAI"],
        description="assets valued at one US dollar each",
    )
    fx_per_usd: dict[str, float] = Field(
        default_factory=lambda: {"KRW": 1_390.0},
        description="fallback exchange rates (units per USD) when no book or stream prices a currency",
    )

    @field_validator("initial")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        for asset, amount in v.items():
            if amount < 0:
                raise ValueError(f"balance of {asset} must be >= 0, got {amount}")
        return v

    @field_validator("per_venue")
    @classmethod
    def _non_negative_per_venue(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for venue, balances in v.items():
            for asset, amount in balances.items():
                if amount < 0:
                    raise ValueError(f"balance of {asset} on {venue} must be >= 0, got {amount}")
        return v

    @field_validator("fx_per_usd")
    @classmethod
    def _positive_rates(cls, v: dict[str, float]) -> dict[str, float]:
        for currency, rate in v.items():
            if not rate > 0:
                raise ValueError(f"rate of {currency} must be > 0 units per USD, got {rate}")
        return v

    @model_validator(mode="after")
    def _some_capital(self) -> Self:
        amounts = list(self.initial.values())
        for balances in self.per_venue.values():
            amounts.extend(balances.values())
        if not any(a > 0 for a in amounts):
            raise ValueError("no capital: every starting balance is 0 (set [portfolio] initial)")
        return self


class SinksConfig(_WithComponentTables):
    """``[sinks]``: which sinks receive events; each sink's settings go in ``[sinks.<name>]``."""

    enabled: list[str] = Field(
        default_factory=lambda: ["sqlite_journal"], description="sinks fed by the bot, by name"
    )


class BacktestConfig(_Strict):
    """``[backtest]``: length and seed of a backtest."""

    seed: int = Field(
        7,
        description=(
            "seed of every random draw (simulated market, leg failures): the same seed gives the "
            "same numbers"
        ),
    )
    duration_s: float | None = Field(None, gt=0, description="stop after this much market time")
    start: datetime | None = Field(
        None,
        description=(
            "first instant of market data a backtest uses (ISO 8601 or a TOML datetime; no zone = "
            "UTC): earlier events are skipped, and the simulator starts its market here"
        ),
    )
    end: datetime | None = Field(
        None,
        description="the backtest stops at the first event at or after this instant (no zone = UTC)",
    )

    @staticmethod
    def _epoch(value: datetime | None) -> float | None:
        if value is None:
            return None
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.timestamp()

    @property
    def start_ts(self) -> float | None:
        """``start`` as epoch seconds (None when unset)."""
        return self._epoch(self.start)

    @property
    def end_ts(self) -> float | None:
        """``end`` as epoch seconds (None when unset)."""
        return self._epoch(self.end)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        start, end = self.start_ts, self.end_ts
        if start is not None and end is not None and end <= start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class AlertThresholds(_Strict):
    """``[alerts.thresholds]``: when alert plugins speak up (TRD §6.1)."""

    opportunity_min_pct: float = Field(0.5, ge=0, description="alert on opportunities at least this wide (%)")
    daily_pnl_alert: bool = Field(True, description="send the daily PnL")
    error_alert: bool = Field(True, description="alert on errors (component failures, stores down)")


class AlertsConfig(_WithComponentTables):
    """``[alerts]``: thresholds here; each channel's table (``[alerts.telegram]``) is validated
    by the plugin that implements it."""

    thresholds: AlertThresholds = Field(default_factory=AlertThresholds, description="alert thresholds")


class DatabaseConfig(_WithComponentTables):
    """``[database]``: server stores (``[database.postgres]``, ``[database.clickhouse]``,
    ``[database.redis]``), each table validated by the storage plugin that implements it."""


#: Feature sections validated by plugins, with the package that implements each (for errors).
FEATURE_PACKAGES: dict[str, str] = {
    "alerts.telegram": "arbot-telegram",
    "rebalancer": "arbot-rebalancer",
    "database.postgres": "arbot-postgres",
    "database.clickhouse": "arbot-clickhouse",
    "database.redis": "arbot-redis",
}


class BotConfig(_Strict):
    """A whole bot: every section of the configuration file."""

    system: SystemConfig = Field(
        default_factory=SystemConfig,
        description="execution mode, logging and the component-error policy",
    )
    exchanges: ExchangesConfig = Field(
        default_factory=ExchangesConfig,
        description="venues and fee overrides",
    )
    symbols: list[str] = Field(
        default_factory=lambda: ["BTC/USDT", "ETH/USDT"],
        description="unified symbols the bot follows, in BASE/QUOTE form",
    )
    detector: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {"spatial": {"enabled": True}},
        description="detector settings by detector name; each needs enabled = true to run",
    )
    risk: RiskConfig = Field(
        default_factory=RiskConfig,
        description="limits of the built-in risk rules, the rule list and each rule's table",
    )
    source: SourceConfig = Field(
        default_factory=SourceConfig,
        description="where market data comes from, and the source's table",
    )
    executor: ExecutorConfig = Field(
        default_factory=ExecutorConfig,
        description="which executor runs approved opportunities, and its settings",
    )
    portfolio: PortfolioConfig = Field(
        default_factory=PortfolioConfig,
        description="starting balances and valuation",
    )
    sinks: SinksConfig = Field(
        default_factory=SinksConfig,
        description="which sinks receive events, and each sink's table",
    )
    backtest: BacktestConfig = Field(
        default_factory=BacktestConfig,
        description="length and seed of a backtest",
    )
    rebalancer: dict[str, Any] = Field(
        default_factory=dict,
        description="TRD §3.6 rebalancer settings, validated by the rebalancer plugin that implements them",
    )
    alerts: AlertsConfig = Field(default_factory=AlertsConfig, description="alert thresholds and channels")
    database: DatabaseConfig = Field(
        default_factory=DatabaseConfig, description="server stores, validated by the storage plugins"
    )
    connectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="connector settings by venue (URLs, keys, timeouts); `connector = NAME` serves the "
        "venue with another connector class (several venues through ccxt)",
    )
    output_dir: str = Field("runs", description="where embedded sinks write, relative to the file")

    #: The file this configuration came from (None when built in code).
    source_file: Path | None = Field(
        None,
        exclude=True,
        description="the file this configuration was read from (set by load_config, not a key)",
    )

    @field_validator("symbols")
    @classmethod
    def _unified_symbols(cls, v: list[str]) -> list[str]:
        for s in v:
            base, sep, quote = s.partition("/")
            if not sep or not base or not quote:
                raise ValueError(f"symbol {s!r} is not in BASE/QUOTE form")
        return v

    def resolve_path(self, path: str | Path) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(path)
        if p.is_absolute() or self.source_file is None:
            return p
        return self.source_file.parent / p

    @property
    def output_path(self) -> Path:
        """Folder for embedded stores (journal, recordings)."""
        return self.resolve_path(self.output_dir).resolve()

    def feature_section(self, path: str) -> dict[str, Any] | None:
        """The raw table at dotted ``path`` (``alerts.telegram``, ``rebalancer``), None if absent."""
        head, _, tail = path.partition(".")
        if head == "rebalancer":
            return dict(self.rebalancer) if self.rebalancer else None
        if head == "alerts" and tail:
            return self.alerts.table(tail) or None
        if head == "database" and tail:
            return self.database.table(tail) or None
        return None

    def enabled_detectors(self) -> dict[str, dict[str, Any]]:
        """Settings of every detector section with ``enabled = true`` (``enabled`` removed)."""
        out: dict[str, dict[str, Any]] = {}
        for name, section in self.detector.items():
            if section.get("enabled", False):
                out[name] = {k: v for k, v in section.items() if k != "enabled"}
        return out


_TABLE_SECTIONS = frozenset({"risk", "sinks", "source", "alerts", "database"})


def format_validation_error(exc: ValidationError, where: str, file: Path | None) -> str:
    """Render a pydantic error as lines naming the key, the value and the file."""
    origin = str(file) if file is not None else "<config>"
    lines = [f"invalid configuration in {origin}:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in (where, *err["loc"]) if p != "")
        value = err.get("input")
        name = str(err["loc"][-1]) if err["loc"] else where
        shown = "<missing>" if err["type"] == "missing" else repr(redact(value, name))
        if len(shown) > 80:
            shown = shown[:77] + "..."
        msg = err["msg"]
        if err["type"] == "dict_type" and len(err["loc"]) == 2 and err["loc"][0] in _TABLE_SECTIONS:
            msg = "unknown key (only a component's settings table may stand here)"
        lines.append(f"  {key} = {shown}: {msg}")
    return "\n".join(lines)


def validate_settings(model: type[M], data: dict[str, Any], where: str, file: Path | None) -> M:
    """Validate a component's settings, raising ConfigError in ArBot's format."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, where, file)) from None


def read_config_data(path: str | Path) -> dict[str, Any]:
    """The raw tables of a TOML (``.toml``) or YAML (``.yaml``/``.yml``) configuration file."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {file}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file} is not UTF-8 text: {exc}") from None
    suffix = file.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _parse_yaml(text, file)
    if suffix not in (".toml", ""):
        raise ConfigError(f"{file}: unknown configuration format {suffix!r} (use .toml, .yaml or .yml)")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from None


def _parse_yaml(text: str, file: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{file} is not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of sections, not {type(data).__name__}")
    return data


def parse_override(assignment: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into its key path and value (a TOML value, else a bare string)."""
    key, sep, text = assignment.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {assignment!r}: expected KEY=VALUE with a dotted key, e.g. backtest.seed=3")
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    return key.split("."), value


def apply_overrides(data: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """Set each ``key.path=value`` of ``assignments`` in the raw tables ``data`` (in place)."""
    for assignment in assignments:
        path, value = parse_override(assignment)
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {assignment!r}: {part!r} is a value, not a table")
            node = child
        node[path[-1]] = value
    return data


def load_config(path: str | Path, overrides: list[str] | None = None) -> BotConfig:
    """Read and validate a TOML or YAML configuration file, then ``--set`` style overrides."""
    file = Path(path)
    data = read_config_data(file)
    if overrides:
        apply_overrides(data, overrides)
    return config_from_dict(data, file)


def config_from_dict(data: dict[str, Any], file: Path | None = None) -> BotConfig:
    """Validate a configuration given as a dict (what a TOML file parses to)."""
    try:
        cfg = BotConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, "", file)) from None
    cfg.source_file = file.resolve() if file is not None else None
    return cfg
