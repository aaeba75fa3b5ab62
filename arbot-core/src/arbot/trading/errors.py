"""Trading errors: a venue's explicit rejection is different from an ambiguous answer.

Only :class:`OrderRejected` means the order does not exist at the venue. A timeout, a dropped
connection or a 5xx raises :class:`AmbiguousOrderState`: the order may be live, and the order
manager settles it by querying the client id. A clock-skew rejection raises :class:`ClockSkew`
(the order was *not* accepted; resync the clock and resend with the same client id).
"""

from __future__ import annotations

from arbot.errors import ArbotError

__all__ = [
    "AmbiguousOrderState",
    "AuthenticationFailed",
    "ClockSkew",
    "DuplicateClientId",
    "NotSupported",
    "OrderNotFound",
    "OrderRejected",
    "RateLimited",
    "TradingError",
]


class TradingError(ArbotError):
    """Base of every trading error; ``venue``, ``code`` and ``message`` are the venue's own."""

    def __init__(self, venue: str, message: str, code: str | None = None) -> None:
        super().__init__(f"{venue}: {message}" + (f" (code {code})" if code else ""))
        self.venue = venue
        self.code = code
        self.message = message


class OrderRejected(TradingError):
    """The venue explicitly refused the order (balance, filters, minimums): it does not exist."""


class AmbiguousOrderState(TradingError):
    """No definite answer (timeout, dropped connection, 5xx): the order may or may not be live."""


class ClockSkew(TradingError):
    """The request's timestamp was outside the venue's window: not accepted, safe to resend."""


class DuplicateClientId(TradingError):
    """The client id is already in use at the venue: look the order up, never place a new one."""


class OrderNotFound(TradingError):
    """The venue does not know the order (yet, or any more)."""


class RateLimited(TradingError):
    """429/418: back off for ``retry_after`` seconds."""

    def __init__(self, venue: str, message: str, code: str | None = None, retry_after: float = 1.0) -> None:
        super().__init__(venue, message, code)
        self.retry_after = retry_after


class AuthenticationFailed(TradingError):
    """Bad key, signature or passphrase: nothing was placed."""


class NotSupported(TradingError):
    """The venue's API does not offer this (e.g. withdrawals through a connector without them)."""
