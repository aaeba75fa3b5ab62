"""Bot configuration: pydantic models loaded from TOML.

The keys and defaults are the TRD's §6.1 (``configs/default.yaml``) and §3.4 ``RiskConfig``,
written as TOML. Component settings (``[detector.<name>]``, ``[sinks.<name>]``, ``[source]``)
are validated by the component's own ``Settings`` model when the bot resolves it, with the
same error format. Secrets come from the environment and are kept as ``SecretStr``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from arbot.errors import ConfigError

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
    "format_validation_error",
    "load_config",
    "validate_settings",
]

M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    """Base for config sections: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class ComponentSettings(_Strict):
    """Base class for a component's ``Settings`` model (detectors, sinks, sources, rules)."""


def _secret_from_env(var: str) -> Any:
    def factory() -> SecretStr:
        return SecretStr(os.environ.get(var, ""))

    return Field(default_factory=factory, description=f"read from ${var} when not set")


class SystemConfig(_Strict):
    """``[system]``: execution mode and logging."""

    execution_mode: Literal["backtest", "paper", "live"] = "paper"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    timezone: str = "UTC"


class FeeConfig(_Strict):
    """Taker and maker fee of one venue, in percent (overrides the connector's metadata)."""

    taker_pct: float = Field(0.1, ge=0.0, le=5.0)
    maker_pct: float = Field(0.1, ge=-1.0, le=5.0)


class ExchangesConfig(_Strict):
    """``[exchanges]``: which venues the bot uses, and optional fee overrides per venue."""

    enabled: list[str] = Field(default_factory=lambda: ["binance", "okx", "bybit", "upbit", "kucoin"])
    fees: dict[str, FeeConfig] = Field(default_factory=dict)
    default_fee: FeeConfig = Field(default_factory=FeeConfig)

    def taker_fee(self, venue: str) -> float:
        """Taker fee of ``venue`` as a fraction (0.001 for 0.1 %)."""
        return self.fees.get(venue, self.default_fee).taker_pct / 100.0


class RiskConfig(_Strict):
    """``[risk]``: the TRD §3.4 ``RiskConfig`` plus the stale-book limit and the rule list."""

    max_position_per_coin_usd: float = Field(10_000, gt=0)
    max_position_per_exchange_usd: float = Field(50_000, gt=0)
    max_total_exposure_usd: float = Field(100_000, gt=0)
    max_daily_loss_usd: float = Field(500, gt=0)
    max_daily_loss_pct: float = Field(1.0, gt=0, le=100)
    max_drawdown_pct: float = Field(5.0, gt=0, le=100)
    price_deviation_threshold_pct: float = Field(10.0, gt=0)
    max_spread_pct: float = Field(5.0, gt=0)
    consecutive_loss_limit: int = Field(10, ge=1)
    cooldown_minutes: float = Field(30, ge=0)
    max_book_age_ms: float = Field(2_000, gt=0)
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
    settings: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="settings of third-party rules, by rule name"
    )


class SourceConfig(_Strict):
    """``[source]``: where market data comes from (``simulator``, ``replay``, ``live``...)."""

    name: str = "simulator"
    settings: dict[str, Any] = Field(default_factory=dict)


class ExecutorConfig(_Strict):
    """``[executor]``: which executor runs approved opportunities."""

    name: str | None = Field(None, description="defaults to the execution mode's executor")
    latency_ms: float = Field(50.0, ge=0)
    leg_failure_probability: float = Field(0.0, ge=0, le=1)
    slippage_tolerance_pct: float = Field(0.05, ge=0)
    live_trading_opt_in: bool = False


class PortfolioConfig(_Strict):
    """``[portfolio]``: starting balances, the same on every venue unless overridden."""

    initial: dict[str, float] = Field(default_factory=lambda: {"USDT": 100_000.0, "BTC": 2.0, "ETH": 30.0})
    per_venue: dict[str, dict[str, float]] = Field(default_factory=dict)
    snapshot_interval_s: float = Field(60.0, gt=0)
    usd_assets: list[str] = Field(default_factory=lambda: ["USD", "USDT", "USDC", "BUSD", "DAI"])
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


class SinksConfig(_Strict):
    """``[sinks]``: which sinks receive events, and their settings by sink name."""

    enabled: list[str] = Field(default_factory=lambda: ["sqlite_journal"])
    settings: dict[str, dict[str, Any]] = Field(default_factory=dict)


class BacktestConfig(_Strict):
    """``[backtest]``: length and seed of a backtest."""

    seed: int = 7
    duration_s: float | None = Field(None, gt=0, description="stop after this much market time")
    start: str | None = None
    end: str | None = None


class RebalancerConfig(_Strict):
    """``[rebalancer]``: TRD §6.1 keys."""

    check_interval_minutes: float = 60
    imbalance_threshold_pct: float = 30
    preferred_networks: dict[str, list[str]] = Field(
        default_factory=lambda: {"USDT": ["TRC20", "SOL", "Arbitrum"], "BTC": ["Lightning", "Bitcoin"]}
    )


class TelegramConfig(_Strict):
    """``[alerts.telegram]``; the token comes from ``$TELEGRAM_BOT_TOKEN``."""

    enabled: bool = False
    chat_id: str = Field(default_factory=lambda: os.environ.get("TELEGRAM_CHAT_ID", ""))
    bot_token: SecretStr = _secret_from_env("TELEGRAM_BOT_TOKEN")


class AlertThresholds(_Strict):
    """``[alerts.thresholds]``."""

    opportunity_min_pct: float = 0.5
    daily_pnl_alert: bool = True
    error_alert: bool = True


class AlertsConfig(_Strict):
    """``[alerts]``."""

    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    thresholds: AlertThresholds = Field(default_factory=AlertThresholds)


class PostgresConfig(_Strict):
    """``[database.postgres]``; the password comes from ``$POSTGRES_PASSWORD``."""

    host: str = "localhost"
    port: int = 5432
    database: str = "arbot"
    user: str = "arbot"
    password: SecretStr = _secret_from_env("POSTGRES_PASSWORD")


class ClickHouseConfig(_Strict):
    """``[database.clickhouse]``."""

    host: str = "localhost"
    port: int = 9000
    database: str = "arbot"


class RedisConfig(_Strict):
    """``[database.redis]``; the password comes from ``$REDIS_PASSWORD``."""

    host: str = "localhost"
    port: int = 6379
    db: int = 0
    password: SecretStr = _secret_from_env("REDIS_PASSWORD")


class DatabaseConfig(_Strict):
    """``[database]``: server stores, used by the storage plugins."""

    postgres: PostgresConfig = Field(default_factory=PostgresConfig)
    clickhouse: ClickHouseConfig = Field(default_factory=ClickHouseConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)


class BotConfig(_Strict):
    """A whole bot: every section of the configuration file."""

    system: SystemConfig = Field(default_factory=SystemConfig)
    exchanges: ExchangesConfig = Field(default_factory=ExchangesConfig)
    symbols: list[str] = Field(default_factory=lambda: ["BTC/USDT", "ETH/USDT"])
    detector: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {"spatial": {"enabled": True}},
        description="detector settings by detector name; each needs enabled = true to run",
    )
    risk: RiskConfig = Field(default_factory=RiskConfig)
    source: SourceConfig = Field(default_factory=SourceConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    portfolio: PortfolioConfig = Field(default_factory=PortfolioConfig)
    sinks: SinksConfig = Field(default_factory=SinksConfig)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    rebalancer: RebalancerConfig = Field(default_factory=RebalancerConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    connectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="connector settings by venue (URLs, timeouts, fees)"
    )
    output_dir: str = Field("runs", description="where embedded sinks write, relative to the file")

    #: The file this configuration came from (None when built in code).
    source_file: Path | None = Field(None, exclude=True)

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

    def enabled_detectors(self) -> dict[str, dict[str, Any]]:
        """Settings of every detector section with ``enabled = true`` (``enabled`` removed)."""
        out: dict[str, dict[str, Any]] = {}
        for name, section in self.detector.items():
            if section.get("enabled", False):
                out[name] = {k: v for k, v in section.items() if k != "enabled"}
        return out


def format_validation_error(exc: ValidationError, where: str, file: Path | None) -> str:
    """Render a pydantic error as lines naming the key, the value and the file."""
    origin = str(file) if file is not None else "<config>"
    lines = [f"invalid configuration in {origin}:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in (where, *err["loc"]) if p != "")
        value = err.get("input")
        shown = "<missing>" if err["type"] == "missing" else repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        lines.append(f"  {key} = {shown}: {err['msg']}")
    return "\n".join(lines)


def validate_settings(model: type[M], data: dict[str, Any], where: str, file: Path | None) -> M:
    """Validate a component's settings, raising ConfigError in ArBot's format."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, where, file)) from None


def load_config(path: str | Path) -> BotConfig:
    """Read and validate a TOML configuration file."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {file}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from None
    return config_from_dict(data, file)


def config_from_dict(data: dict[str, Any], file: Path | None = None) -> BotConfig:
    """Validate a configuration given as a dict (what a TOML file parses to)."""
    try:
        cfg = BotConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, "", file)) from None
    cfg.source_file = file.resolve() if file is not None else None
    return cfg
