"""``[rebalancer]``: when to check, what split to keep, which networks to use, and the opt-ins
that let it move real funds."""

from __future__ import annotations

from pathlib import Path

from arbot.config import ComponentSettings
from pydantic import Field, SecretStr, field_validator, model_validator

__all__ = ["EXECUTE_ENV", "RebalancerSettings", "StaticNetwork", "WithdrawKey"]

#: The environment variable that must be "1" (besides ``execute = true``) for real withdrawals.
EXECUTE_ENV = "ARBOT_REBALANCER_EXECUTE"


class WithdrawKey(ComponentSettings):
    """A withdrawal-enabled API key of one venue, kept apart from its trading key."""

    api_key: SecretStr = Field(description="API key with withdrawal rights for this venue; never shown.")
    secret: SecretStr = Field(description="API secret of that key; never shown.")
    passphrase: SecretStr | None = Field(None, description="the key's passphrase, on venues that have one")


class StaticNetwork(ComponentSettings):
    """A network's cost as configured (used where neither a venue nor the fee table says)."""

    fee: float = Field(ge=0, description="withdrawal fee, in the asset")
    minimum: float = Field(0.0, ge=0, description="smallest withdrawal, in the asset")
    minutes: float | None = Field(None, gt=0, description="confirmation time")


class RebalancerSettings(ComponentSettings):
    """``[rebalancer]`` (TRD §3.6 keys, plus the target split, costs and execution safeguards)."""

    enabled: bool = Field(False, description="run the rebalancer sink")
    check_interval_minutes: float = Field(60.0, gt=0, description="how often balances are checked")
    imbalance_threshold_pct: float = Field(
        30.0, gt=0, description="rebalance an asset when a venue is this far (percent) from its target"
    )
    assets: list[str] | None = Field(None, description="assets to watch (default: every asset held)")
    venues: list[str] | None = Field(None, description="venues to balance (default: every venue held)")
    target_split: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="asset -> venue -> weight (normalised); default: an even split across venues",
    )
    preferred_networks: dict[str, list[str]] = Field(
        default_factory=dict,
        description="asset -> networks tried first, in order (e.g. USDT = ['TRC20', 'SOL'])",
    )
    fee_table: Path | None = Field(
        None, description="CSV of withdrawal fees (ccxt's columns), used where a venue gives none live"
    )
    networks: dict[str, dict[str, StaticNetwork]] = Field(
        default_factory=dict,
        description="asset -> network -> {fee, minimum, minutes} on every venue, the last fallback",
    )
    network_minutes: dict[str, float] = Field(
        default_factory=dict, description="confirmation minutes per network, over the built-in estimates"
    )
    time_cost_pct_per_hour: float = Field(
        0.01, ge=0, description="cost of value in transit, percent per hour (trades fee against speed)"
    )
    min_transfer_usd: float = Field(50.0, ge=0, description="smaller transfers are not worth planning")
    cost_reference_usd: float = Field(
        10_000.0, gt=0, description="transfer size the per-asset cost estimate (for detectors) assumes"
    )
    simulate: bool | None = Field(
        None, description="move simulated balances with fee and delay (default: in backtest and paper)"
    )
    execute: bool = Field(False, description=f"send real withdrawals (live only; also needs {EXECUTE_ENV}=1)")
    deposit_addresses: dict[str, dict[str, dict[str, str]]] = Field(
        default_factory=dict, description="venue -> asset -> network -> deposit address"
    )
    address_allowlist: list[str] = Field(
        default_factory=list, description="the only addresses a withdrawal may go to"
    )
    withdraw_keys: dict[str, WithdrawKey] = Field(
        default_factory=dict, description="venue -> withdrawal-enabled key (never the trading key)"
    )

    @field_validator("target_split")
    @classmethod
    def _weights(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for asset, split in v.items():
            for venue, w in split.items():
                if not w >= 0:
                    raise ValueError(f"target_split.{asset}.{venue} must be >= 0, got {w}")
            if split and sum(split.values()) <= 0:
                raise ValueError(f"target_split.{asset}: the weights sum to 0")
        return v

    @model_validator(mode="after")
    def _addresses_allowed(self) -> RebalancerSettings:
        if self.execute and not self.address_allowlist:
            raise ValueError("execute = true needs an address_allowlist")
        return self
