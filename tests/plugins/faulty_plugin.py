"""A third-party plugin whose components raise, for the fault-containment tests."""

from __future__ import annotations

from arbot import hookimpl
from arbot.components import Detector, RiskRule, Sink
from arbot.events import Opportunity, RiskDecision


class ExplodingDetector(Detector):
    """Raises on its 2,000th book update (the message carries rich-markup-like text)."""

    name = "exploding"

    def __init__(self, settings, ctx):  # type: ignore[no-untyped-def]
        super().__init__(settings, ctx)
        self.calls = 0

    def on_book(self, venue, symbol, now):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == 2000:
            raise ValueError("boom [executor] inside")
        return ()


class ExplodingRule(RiskRule):
    """Raises on its second opportunity, approves the first."""

    name = "exploding_rule"

    def __init__(self, settings, ctx):  # type: ignore[no-untyped-def]
        super().__init__(settings, ctx)
        self.calls = 0

    def evaluate(self, opportunity: Opportunity, now: float) -> RiskDecision:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("rule bug")
        return RiskDecision.approve(self.name)


class ExplodingSink(Sink):
    """Raises on its third event."""

    name = "exploding_sink"

    def __init__(self, settings, ctx):  # type: ignore[no-untyped-def]
        super().__init__(settings, ctx)
        self.seen = 0

    def emit(self, event: object) -> None:
        self.seen += 1
        if self.seen == 3:
            raise OSError("disk on fire")


@hookimpl
def arbot_register_detectors():  # type: ignore[no-untyped-def]
    return [ExplodingDetector]


@hookimpl
def arbot_register_risk_rules():  # type: ignore[no-untyped-def]
    return [ExplodingRule]


@hookimpl
def arbot_register_sinks():  # type: ignore[no-untyped-def]
    return [ExplodingSink]
