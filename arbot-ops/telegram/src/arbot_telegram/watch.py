"""Health transitions worth an alert: new component faults, a sink going down or back up, the
circuit breaker opening or closing, the residual exposure (holdings netted across venues)
crossing its limit. Each is reported once, when it happens."""

from __future__ import annotations

from arbot.bot import Bot
from arbot.sinks.base import BatchingSink

from arbot_telegram.alerts import AlertBatch
from arbot_telegram.status import breaker_open

__all__ = ["HealthWatch"]


class HealthWatch:
    """Compares the bot's health with the last check and queues alerts for the changes."""

    def __init__(self, bot: Bot, alerts: AlertBatch, errors: bool, residual_usd: float | None = None) -> None:
        self.bot = bot
        self.alerts = alerts
        self.errors = errors
        self.residual_usd = residual_usd
        self._residual_high = False
        self._faults_seen = 0
        self._down: set[str] = set()
        self._breaker = False

    def check(self) -> None:
        """Queue an alert for every change since the last check."""
        faults = list(self.bot.engine.faults)
        if self.errors:
            for fault in faults[self._faults_seen :]:
                self.alerts.add("error", f"component failure: {fault}", key=f"fault:{fault.component}")
        self._faults_seen = len(faults)
        stores = {s.name: s for s in self.bot.sinks if isinstance(s, BatchingSink)}
        down = {name for name, s in stores.items() if not s.healthy}
        if self.errors:
            for name in sorted(down - self._down):
                error = stores[name].last_error or "unknown error"
                self.alerts.add(
                    "error",
                    f"store down: sink {name} cannot write ({error}); events spill to disk",
                    key=f"down:{name}",
                )
            for name in sorted(self._down - down):
                self.alerts.add("info", f"store back: sink {name} writes again", key=f"up:{name}")
        self._down = down
        is_open = breaker_open(self.bot)
        if is_open and not self._breaker:
            self.alerts.add("error", "circuit breaker OPEN: trading halted", key="breaker")
        elif self._breaker and not is_open:
            self.alerts.add("info", "circuit breaker closed: trading resumed", key="breaker")
        self._breaker = is_open
        if self.residual_usd is not None:
            self._residual()

    def _residual(self) -> None:
        assert self.residual_usd is not None
        for _ in range(5):  # the engine may change the balances while they are summed
            try:
                residual = self.bot.ctx.portfolio.net_position_usd()
                break
            except RuntimeError:
                continue
        else:
            return
        high = residual > self.residual_usd
        if high and not self._residual_high:
            self.alerts.add(
                "error",
                f"residual exposure {residual:,.0f} USD (holdings netted across venues) is above "
                f"{self.residual_usd:,.0f} USD",
                key="residual",
            )
        elif self._residual_high and not high:
            self.alerts.add("info", f"residual exposure back to {residual:,.0f} USD", key="residual")
        self._residual_high = high
