"""The rebalancer's own withdrawal gateways, built from ``[rebalancer.withdraw_keys.<venue>]``.

Each venue's gateway comes from its connector class (``Connector.trading_gateway``) signed in
with the withdrawal key, on the hosts of the live source's connector for that venue, so with
``[source.live] emulate = true`` it talks to the venue's emulator. Any venue whose gateway
implements the core wallet interface (:class:`~arbot.trading.gateway.WalletGateway`, with
``supports_withdrawals``) can execute: Binance, OKX, Bybit, Bitget, KuCoin, Gate, Upbit and
Bithumb; any other venue in ``withdraw_keys`` is a configuration error when the bot starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs
from arbot.components import BotContext, Connector
from arbot.config import ComponentSettings
from arbot.errors import ArbotError, ConfigError
from arbot.sources.live import LiveSource
from arbot.trading.credentials import credentials_for, split_credentials
from arbot.trading.gateway import TradingGateway
from arbot.trading.rest_gateway import RestTradingGateway
from arbot.trading.signing import ApiCredentials

from arbot_rebalancer.settings import RebalancerSettings, WithdrawKey
from arbot_rebalancer.transfers import WithdrawalGateway

if TYPE_CHECKING:
    from arbot.testing.emulator.exchange import EmulatedExchange

__all__ = ["check_withdraw_venues", "open_withdrawal_gateways", "provision_emulated_keys", "trading_keys"]


@runtime_checkable
class EmulatedWithdrawals(Protocol):
    """An emulator's private API whose keys can be granted withdrawal rights (every venue's)."""

    @property
    def withdraw_keys(self) -> set[str]:
        """API keys with withdrawal rights (add one to grant them)."""
        ...

    @property
    def exchange(self) -> EmulatedExchange:
        """The emulated exchange holding the accounts."""
        ...


def _credentials(key: WithdrawKey) -> ApiCredentials:
    passphrase = key.passphrase.get_secret_value() if key.passphrase is not None else None
    return ApiCredentials(
        key.api_key.get_secret_value(), secret=key.secret.get_secret_value(), passphrase=passphrase
    )


def _connector_class(ctx: BotContext, venue: str) -> type[Connector]:
    if venue not in ctx.config.exchanges.enabled:
        raise ConfigError(
            f"[rebalancer.withdraw_keys.{venue}]: {venue!r} is not in [exchanges] enabled "
            f"({', '.join(ctx.config.exchanges.enabled)})"
        )
    if ctx.host is None:
        raise ConfigError("the rebalancer needs the plugin registry to find connectors")
    name = str(ctx.config.connectors.get(venue, {}).get("connector", venue))
    cls = ctx.host.resolve("connector", name)
    if not issubclass(cls, Connector):
        raise ConfigError(f"[rebalancer.withdraw_keys.{venue}]: {name!r} is not a connector")
    return cls


def _withdrawal_gateway(
    cls: type[Connector], venue: str, settings: ComponentSettings, key: WithdrawKey
) -> WithdrawalGateway:
    try:
        gateway: TradingGateway = cls.trading_gateway(settings, _credentials(key))
    except ArbotError as exc:
        raise ConfigError(f"[rebalancer.withdraw_keys.{venue}]: {exc}") from exc
    if not isinstance(gateway, WithdrawalGateway) or not gateway.supports_withdrawals:
        raise ConfigError(
            f"[rebalancer.withdraw_keys.{venue}]: the {cls.name} gateway "
            f"({type(gateway).__name__}) cannot withdraw; remove {venue} from withdraw_keys "
            "(rebalancer withdrawals run on venues whose gateway implements the wallet interface)"
        )
    return gateway


def check_withdraw_venues(settings: RebalancerSettings, ctx: BotContext) -> None:
    """At start: every venue in ``withdraw_keys`` is enabled and its gateway can withdraw.

    The check builds each gateway (not started: no request is sent) from the venue's
    ``[connectors.<venue>]`` settings; raises :class:`ConfigError` naming the venue otherwise.
    """
    for venue, key in settings.withdraw_keys.items():
        cls = _connector_class(ctx, venue)
        raw, _ = split_credentials(ctx.config.connectors.get(venue, {}))
        raw.pop("connector", None)
        if "venue" in cls.Settings.model_fields:
            raw.setdefault("venue", venue)
        try:
            conn_settings = cls.Settings.model_validate(raw)
        except ValueError as exc:
            raise ConfigError(f"[connectors.{venue}]: {exc}") from exc
        _withdrawal_gateway(cls, venue, conn_settings, key)


def open_withdrawal_gateways(
    settings: RebalancerSettings, ctx: BotContext, source: LiveSource
) -> dict[str, WithdrawalGateway]:
    """A withdrawal gateway (not started) per venue of ``withdraw_keys``, on the hosts of the
    live source's open connector of that venue (its emulator when emulated)."""
    out: dict[str, WithdrawalGateway] = {}
    for venue, key in settings.withdraw_keys.items():
        conn = source.connectors.get(venue)
        if conn is None:
            raise ConfigError(f"[rebalancer.withdraw_keys.{venue}]: the live source has no {venue} connector")
        out[venue] = _withdrawal_gateway(_connector_class(ctx, venue), venue, conn.settings, key)
    return out


def trading_keys(
    ctx: BotContext, venues: list[str], gateways: Mapping[str, TradingGateway]
) -> dict[str, str]:
    """The API keys the bot trades with on ``venues``: the live executor's gateways' keys, else
    the configured trading credentials (a withdrawal key equal to one is refused)."""
    out: dict[str, str] = {}
    for venue in venues:
        gw = gateways.get(venue)
        if isinstance(gw, RestTradingGateway):
            out[venue] = gw.credentials.api_key
            continue
        found = credentials_for(venue, ctx.config.connectors.get(venue, {}))
        if found is not None:
            out[venue] = found.api_key
    return out


def provision_emulated_keys(
    settings: RebalancerSettings,
    source: LiveSource,
    gateways: Mapping[str, TradingGateway],
    balances: Mapping[tuple[str, str], float],
) -> None:
    """``[source.live] emulate = true``: give each emulated venue's account the configured
    withdrawal key, with withdrawal rights, as a second key of the account the bot trades with
    (the live executor's), else of a new account funded with the portfolio's balances there.
    Real venues are left alone: their keys are made on the venue."""
    for venue, key in settings.withdraw_keys.items():
        emulator = source.emulators.get(venue)
        if emulator is None:
            continue
        private = emulator.private
        if not isinstance(private, EmulatedWithdrawals):
            raise ConfigError(f"[rebalancer.withdraw_keys.{venue}]: the {venue} emulator cannot withdraw")
        exchange = private.exchange
        creds = _credentials(key)
        if creds.api_key not in exchange.accounts:
            trading = gateways.get(venue)
            account = (
                exchange.accounts.get(trading.credentials.api_key)
                if isinstance(trading, RestTradingGateway)
                else None
            )
            if account is not None:  # shares the trading account's balances
                exchange.accounts[creds.api_key] = attrs.evolve(
                    account, api_key=creds.api_key, secret=key.secret.get_secret_value(),
                    passphrase=creds.passphrase_value() or None,
                )
            else:
                funds = {a: repr(q) for (v, a), q in balances.items() if v == venue}
                exchange.create_account(
                    funds, api_key=creds.api_key, secret=key.secret.get_secret_value(),
                    passphrase=creds.passphrase_value() or None,
                )
        private.withdraw_keys.add(creds.api_key)
