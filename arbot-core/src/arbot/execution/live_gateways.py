"""Live execution's trading gateways: one per venue of the live source, built by its connector.

For every connector the live source opened, :func:`open_gateways` asks the connector class for
its venue's :class:`~arbot.trading.gateway.TradingGateway` (``Connector.trading_gateway``) with
the connector's own validated settings, so the gateway talks to the same hosts as the market
data. Credentials come from ``[connectors.<venue>] api_key/api_secret/passphrase`` or the
environment (:mod:`arbot.trading.credentials`). With ``[source.live] emulate = true`` each venue
runs on its local emulator and the gateway gets a fresh emulator account funded with the
portfolio's configured balances on that venue (``Connector.emulated_account``): the same bot
trades offline.
"""

from __future__ import annotations

from arbot.components import BotContext, Source
from arbot.errors import ConfigError
from arbot.sources.live import LiveSource
from arbot.trading.credentials import credentials_for, env_names
from arbot.trading.gateway import TradingGateway

__all__ = ["open_gateways"]


async def open_gateways(ctx: BotContext, source: Source) -> dict[str, TradingGateway]:
    """A trading gateway (not started) per venue of ``source``, which must be the open live source.

    Raises :class:`ConfigError` when the source is not ``live`` or a real venue has no API key.
    """
    if not isinstance(source, LiveSource):
        raise ConfigError(
            f"execution_mode = 'live' trades on the live source's venues, but [source] name = "
            f"{source.name!r}: set [source] name = 'live' "
            "(with [source.live] emulate = true to trade offline)"
        )
    gateways: dict[str, TradingGateway] = {}
    for venue, conn in source.connectors.items():
        cls = type(conn)
        emulator = source.emulators.get(venue)
        if emulator is not None:
            funds = {a: q for (v, a), q in ctx.portfolio.balances.items() if v == venue}
            credentials = cls.emulated_account(emulator, funds)
        else:
            found = credentials_for(venue, ctx.config.connectors.get(venue, {}))
            if found is None:
                key_var, secret_var, _ = env_names(venue)
                raise ConfigError(
                    f"live trading on {venue} needs an API key: [connectors.{venue}] api_key and "
                    f"api_secret, or {key_var} and {secret_var} in the environment"
                )
            credentials = found
        gateways[venue] = cls.trading_gateway(conn.settings, credentials)
    return gateways
