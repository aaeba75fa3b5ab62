"""Trading faults to inject into the emulated exchange, and their parsing from a spec string.

Each fault is armed for ``count`` requests (optionally of one API key) and consumed when it
fires. The exchange applies the venue-neutral ones itself; the venue layer applies what only
it can (dropping the answer of an order it accepted, cutting the private stream, refusing a
request whose timestamp is outside the window shifted by the clock skew).

Spec string (``arbot emulate --faults``): comma-separated ``kind[:count][@param]``, e.g.
``reject_balance:2,rate_limit@1.5,http_5xx@503,delay_fill@0.5,clock_skew@5``.
"""

from __future__ import annotations

import enum

import attrs

from arbot.errors import ArbotError

__all__ = ["Fault", "FaultInjector", "FaultKind", "parse_faults"]


class FaultKind(enum.Enum):
    """The trading faults (issue 9)."""

    #: The next order is refused for insufficient balance / min notional / price filter.
    REJECT_BALANCE = "reject_balance"
    REJECT_MIN_NOTIONAL = "reject_min_notional"
    REJECT_PRICE_FILTER = "reject_price_filter"
    #: The next request gets 429 with ``Retry-After: param`` seconds.
    RATE_LIMIT = "rate_limit"
    #: The next order is accepted, its answer dropped (connection closed, no response).
    ACK_LOST = "ack_lost"
    #: Fill reports (stream events and the fill list) of the next order arrive ``param`` s late.
    DELAY_FILL = "delay_fill"
    #: The private streams are cut (the venue layer aborts their connections).
    STREAM_DROP = "stream_drop"
    #: The next order is accepted and then never fills (stays NEW until cancelled).
    STUCK_NEW = "stuck_new"
    #: The exchange clock runs ``param`` seconds ahead from now on (persistent, not consumed).
    CLOCK_SKEW = "clock_skew"
    #: The next request answers HTTP ``param`` (default 503) without executing.
    HTTP_5XX = "http_5xx"
    #: The next order is executed and then answered with HTTP ``param`` (status unknown).
    HTTP_5XX_EXECUTED = "http_5xx_executed"


_DEFAULT_PARAM: dict[FaultKind, float] = {
    FaultKind.RATE_LIMIT: 1.0,
    FaultKind.DELAY_FILL: 0.5,
    FaultKind.CLOCK_SKEW: 5.0,
    FaultKind.HTTP_5XX: 503.0,
    FaultKind.HTTP_5XX_EXECUTED: 503.0,
}


@attrs.define(slots=True)
class Fault:
    """One armed fault: its kind, how many more times it fires, its parameter, its API key,
    and how many matching occasions pass untouched before it starts (``skip``)."""

    kind: FaultKind
    count: int = 1
    param: float | None = None
    api_key: str | None = None
    skip: int = 0

    @property
    def value(self) -> float:
        """The parameter, or the kind's default (seconds, or an HTTP status)."""
        return self.param if self.param is not None else _DEFAULT_PARAM.get(self.kind, 0.0)


class FaultInjector:
    """The armed faults of one exchange. :meth:`take` consumes one firing."""

    def __init__(self) -> None:
        self._armed: list[Fault] = []
        #: How many times each kind fired (tests read this).
        self.fired: dict[FaultKind, int] = {}

    def inject(
        self,
        kind: FaultKind,
        count: int = 1,
        param: float | None = None,
        api_key: str | None = None,
        skip: int = 0,
    ) -> Fault:
        """Arm ``kind`` for ``count`` occasions (requests or orders, of ``api_key`` or of
        anyone), after letting ``skip`` of them pass."""
        if count < 1:
            raise ArbotError(f"fault {kind.value}: count must be >= 1, got {count}")
        fault = Fault(kind, count, param, api_key, skip)
        self._armed.append(fault)
        return fault

    def arm(self, faults: list[Fault]) -> None:
        """Arm already built faults (from :func:`parse_faults`: ``arbot emulate --faults``)."""
        for fault in faults:
            if fault.count < 1:
                raise ArbotError(f"fault {fault.kind.value}: count must be >= 1, got {fault.count}")
            self._armed.append(fault)

    def take(self, kind: FaultKind, api_key: str | None = None) -> Fault | None:
        """Consume one firing of ``kind`` for ``api_key``; None when none is armed."""
        for fault in self._armed:
            if fault.kind is kind and (fault.api_key is None or fault.api_key == api_key):
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.count -= 1
                if fault.count <= 0:
                    self._armed.remove(fault)
                self.fired[kind] = self.fired.get(kind, 0) + 1
                return fault
        return None

    def armed(self, kind: FaultKind) -> bool:
        """True while a fault of ``kind`` is armed."""
        return any(f.kind is kind for f in self._armed)

    def clear(self) -> None:
        """Disarm everything."""
        self._armed.clear()


def parse_faults(spec: str) -> list[Fault]:
    """Parse ``kind[:count][@param],...``; raises ArbotError naming the bad item."""
    faults: list[Fault] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        head, _, param_text = item.partition("@")
        name, _, count_text = head.partition(":")
        try:
            kind = FaultKind(name.strip())
        except ValueError:
            known = ", ".join(k.value for k in FaultKind)
            raise ArbotError(f"fault spec {item!r}: unknown fault {name!r} (known: {known})") from None
        try:
            count = int(count_text) if count_text else 1
            param = float(param_text) if param_text else None
        except ValueError:
            raise ArbotError(f"fault spec {item!r}: count must be an integer and param a number") from None
        if count < 1:
            raise ArbotError(f"fault spec {item!r}: count must be >= 1")
        faults.append(Fault(kind, count, param))
    return faults
