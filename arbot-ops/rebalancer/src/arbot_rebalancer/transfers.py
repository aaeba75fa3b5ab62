"""Real withdrawals, behind every safeguard (TRD §3.6 executor, TRD §7 key separation).

A plan is only *executed* when all of these hold; otherwise it is printed (dry run):

- ``execute = true`` in ``[rebalancer]`` AND ``ARBOT_REBALANCER_EXECUTE=1`` in the environment;
- the source venue has a withdrawal key in ``withdraw_keys``, and it is not its trading key;
- the destination's deposit address for the chosen chain is configured AND on
  ``address_allowlist`` (anything else is refused before a request is sent).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence

import attrs
from arbot.trading.gateway import WalletGateway

from arbot_rebalancer.planner import PlannedTransfer
from arbot_rebalancer.settings import EXECUTE_ENV, RebalancerSettings

__all__ = ["TransferExecutor", "TransferOutcome", "TransferRefused", "WithdrawalGateway"]

log = logging.getLogger("arbot.rebalancer.transfers")


#: What the rebalancer needs of a venue signed in with a withdrawal-enabled key: the core's
#: wallet interface, which every venue gateway implements (its ``supports_withdrawals`` says
#: whether the venue's API can withdraw).
WithdrawalGateway = WalletGateway


class TransferRefused(Exception):
    """A transfer a safeguard stopped before any request was sent."""


@attrs.frozen(slots=True)
class TransferOutcome:
    """What happened to one planned transfer: ``dry_run``, ``refused``, ``failed``, ``sent`` or
    ``completed``."""

    transfer: PlannedTransfer
    status: str
    detail: str = ""
    withdrawal_id: str = ""


class TransferExecutor:
    """Runs a plan's transfers through withdrawal gateways, or prints it (dry run).

    ``gateways`` are signed in with the withdrawal keys; ``trading_keys`` are the API keys the
    bot trades with, by venue (a withdrawal key equal to one is refused).
    """

    def __init__(
        self,
        settings: RebalancerSettings,
        gateways: Mapping[str, WithdrawalGateway],
        trading_keys: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.gateways = dict(gateways)
        self.trading_keys = dict(trading_keys or {})
        self._environ = os.environ if environ is None else environ
        self.outcomes: list[TransferOutcome] = []

    @property
    def live(self) -> bool:
        """True only with both opt-ins (the setting and the environment variable)."""
        return self.settings.execute and self._environ.get(EXECUTE_ENV) == "1"

    def address_for(self, transfer: PlannedTransfer) -> str:
        """The allowed deposit address of ``transfer``'s destination, or TransferRefused."""
        by_asset = self.settings.deposit_addresses.get(transfer.destination, {}).get(transfer.asset, {})
        address = by_asset.get(transfer.canonical_network) or by_asset.get(transfer.network)
        if not address:
            raise TransferRefused(
                f"no deposit address for {transfer.asset} on {transfer.destination} via "
                f"{transfer.canonical_network} in [rebalancer.deposit_addresses]"
            )
        if address not in self.settings.address_allowlist:
            raise TransferRefused(f"address {address} is not on the rebalancer's address_allowlist")
        return address

    def check_key(self, venue: str) -> WithdrawalGateway:
        """The withdrawal gateway of ``venue`` after the key-separation check, or TransferRefused."""
        key = self.settings.withdraw_keys.get(venue)
        if key is None:
            raise TransferRefused(f"no withdrawal key for {venue} in [rebalancer.withdraw_keys]")
        trading = self.trading_keys.get(venue)
        if trading is not None and trading == key.api_key.get_secret_value():
            raise TransferRefused(f"{venue}: the withdrawal key is the trading key; use a separate key")
        gateway = self.gateways.get(venue)
        if gateway is None:
            raise TransferRefused(f"no withdrawal gateway for {venue}")
        return gateway

    async def execute(self, transfers: Sequence[PlannedTransfer]) -> list[TransferOutcome]:
        """Send each transfer (or print it in a dry run); refusals never reach the venue."""
        out: list[TransferOutcome] = []
        for t in transfers:
            if not self.live:
                print(f"rebalancer dry run: {t.describe()}")
                out.append(TransferOutcome(t, "dry_run"))
                continue
            try:
                address = self.address_for(t)
                gateway = self.check_key(t.source)
            except TransferRefused as exc:
                log.error("rebalancer refused %s: %s", t.describe(), exc)
                out.append(TransferOutcome(t, "refused", str(exc)))
                continue
            try:
                withdrawal_id = await gateway.withdraw(t.asset, t.network, t.amount, address)
            except Exception as exc:  # the venue refused or did not answer: reported, never retried
                log.error("rebalancer withdrawal of %s failed: %s", t.describe(), exc)
                out.append(TransferOutcome(t, "failed", f"{type(exc).__name__}: {exc}"))
                continue
            log.warning("rebalancer sent %s (withdrawal %s)", t.describe(), withdrawal_id)
            out.append(TransferOutcome(t, "sent", address, withdrawal_id))
        self.outcomes.extend(out)
        return out

    async def wait(
        self, outcomes: Sequence[TransferOutcome], *, timeout: float, poll: float = 0.25
    ) -> list[TransferOutcome]:
        """Poll the sent withdrawals until each completes or ``timeout`` seconds pass."""
        result = list(outcomes)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for i, o in enumerate(result):
                if o.status == "sent":
                    gateway = self.gateways[o.transfer.source]
                    if await gateway.withdrawal_completed(o.withdrawal_id):
                        result[i] = attrs.evolve(o, status="completed")
            if all(o.status != "sent" for o in result) or loop.time() >= deadline:
                return result
            await asyncio.sleep(poll)
