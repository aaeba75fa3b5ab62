"""The kill switch and the trading guards that persist across restarts.

Engaged (by an operator, a failed unwind, or the risk manager's circuit breaker) it blocks every
new episode and cancels every open order of the bot on every venue. It is a journal flag, so it
is still in force after a restart until :meth:`KillSwitch.clear` is called. The same flags hold
the symbols blocked by an external order found at start-up and the reduce-only mode entered on
a balance drift.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from arbot.execution.events import Alert, ExecutionEvent, KillSwitchChanged
from arbot.execution.journal import JournalStore, Transition
from arbot.execution.orders import OrderManager
from arbot.execution.runtime import Runtime
from arbot.trading.errors import TradingError
from arbot.trading.gateway import TradingGateway

__all__ = ["KILL_FLAG", "RECONCILE_FLAG", "REDUCE_ONLY_FLAG", "KillSwitch", "blocked_flag"]

KILL_FLAG = "kill_switch"
REDUCE_ONLY_FLAG = "reduce_only"
#: set when a start-up reconciliation began and cleared when it settled everything
RECONCILE_FLAG = "reconciliation_pending"


def blocked_flag(venue: str, symbol: str) -> str:
    """The flag name that blocks ``symbol`` on ``venue`` (an external order was found there)."""
    return f"blocked:{venue}:{symbol}"


class KillSwitch:
    """Blocks new orders and cancels open ones; persisted in the journal's flags."""

    def __init__(
        self,
        journal: JournalStore,
        runtime: Runtime,
        listener: Callable[[ExecutionEvent], None] | None = None,
    ) -> None:
        self.journal = journal
        self.runtime = runtime
        self.listener = listener
        self._flags = journal.flags()

    def refresh(self) -> None:
        """Re-read the flags from the journal (another process, e.g. ``arbot stop``, may set them)."""
        self._flags = self.journal.flags()

    @property
    def engaged(self) -> bool:
        """True while the kill switch is in force."""
        return KILL_FLAG in self._flags

    @property
    def reduce_only(self) -> bool:
        """True while only exposure-reducing orders may be sent (balance drift)."""
        return REDUCE_ONLY_FLAG in self._flags

    def blocks(self, venue: str, symbol: str) -> str | None:
        """Why an episode on ``venue``/``symbol`` may not start (None: it may)."""
        if KILL_FLAG in self._flags:
            return f"kill switch engaged: {self._flags[KILL_FLAG]}"
        if RECONCILE_FLAG in self._flags:
            return f"start-up reconciliation not finished: {self._flags[RECONCILE_FLAG]}"
        if REDUCE_ONLY_FLAG in self._flags:
            return f"reduce-only mode: {self._flags[REDUCE_ONLY_FLAG]}"
        flag = blocked_flag(venue, symbol)
        if flag in self._flags:
            return f"symbol blocked until an operator clears it: {self._flags[flag]}"
        return None

    def set_flag(self, name: str, reason: str | None) -> None:
        """Set (or clear with None) one persistent guard flag, journaled."""
        self.journal.set_flag(name, reason)
        self.journal.log(
            Transition(self.runtime.now(), "flag", name, "SET" if reason else "CLEARED", reason or "")
        )
        self._flags = self.journal.flags()

    async def engage(
        self, reason: str, manager: OrderManager, gateways: Mapping[str, TradingGateway]
    ) -> list[str]:
        """Engage: persist the flag, then cancel every open order of the bot on every venue.

        Returns the client ids of external open orders it left alone (never auto-cancelled).
        """
        self.set_flag(KILL_FLAG, reason)
        now = self.runtime.now()
        if self.listener is not None:
            self.listener(KillSwitchChanged(now, True, reason))
            self.listener(Alert(now, "critical", f"kill switch engaged: {reason}"))
        for order in list(manager.open_orders()):
            await manager.cancel(order)
        external: list[str] = []
        for venue, gw in gateways.items():
            try:
                open_orders = await gw.open_orders()
            except TradingError as exc:
                if self.listener is not None:
                    self.listener(
                        Alert(now, "critical", f"kill switch: cannot list open orders on {venue}: {exc}")
                    )
                continue
            for st in open_orders:
                known = manager.orders.get(st.client_id)
                if known is None:
                    external.append(st.client_id)
                    continue
                await manager.cancel(known)
        return external

    def clear(self, reason: str) -> None:
        """Clear the kill switch (an operator's decision)."""
        self.set_flag(KILL_FLAG, None)
        if self.listener is not None:
            self.listener(KillSwitchChanged(self.runtime.now(), False, reason))
