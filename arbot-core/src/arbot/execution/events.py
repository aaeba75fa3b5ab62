"""Execution events: every order and episode transition, residual exposure, alerts, kill switch.

The order manager and the leg-risk machine emit these (slotted, frozen attrs classes, like
:mod:`arbot.events`) to a listener, so alert and metric sinks can consume them; each one is
also journaled with its reason.
"""

from __future__ import annotations

import attrs

from arbot.trading.types import OrderStatus

__all__ = [
    "Alert",
    "EpisodeTransition",
    "ExecutionEvent",
    "KillSwitchChanged",
    "OrderTransition",
    "ResidualExposure",
]


@attrs.frozen(slots=True)
class OrderTransition:
    """One order moved from ``old`` to ``new`` (filled size is cumulative)."""

    ts: float
    episode_id: str
    client_id: str
    venue: str
    symbol: str
    purpose: str
    old: OrderStatus
    new: OrderStatus
    filled: float
    reason: str


@attrs.frozen(slots=True)
class EpisodeTransition:
    """The leg-risk machine of one episode moved from ``old`` to ``new``."""

    ts: float
    episode_id: str
    opportunity_id: str
    old: str
    new: str
    reason: str


@attrs.frozen(slots=True)
class ResidualExposure:
    """Exposure an episode left that no policy closed: ``amount`` of ``asset`` on ``venue``."""

    ts: float
    episode_id: str
    venue: str
    asset: str
    amount: float
    reason: str


@attrs.frozen(slots=True)
class Alert:
    """Something an operator must look at (held episode, failed unwind, external order...)."""

    ts: float
    level: str
    message: str
    episode_id: str = ""


@attrs.frozen(slots=True)
class KillSwitchChanged:
    """The kill switch was engaged or cleared, and why."""

    ts: float
    engaged: bool
    reason: str


ExecutionEvent = OrderTransition | EpisodeTransition | ResidualExposure | Alert | KillSwitchChanged
