"""Replay decoder for Upbit captures (SIMPLE or DEFAULT format), with the live connector's
rules (core :class:`~arbot.connectors.fullbook.FullBookHandler`)."""

from __future__ import annotations

from typing import ClassVar

from arbot.connectors.fullbook import FullBookReplayDecoder

__all__ = ["UpbitReplayDecoder"]


class UpbitReplayDecoder(FullBookReplayDecoder):
    """Upbit messages -> events; books in :attr:`market`.

    The first orderbook message of a market is its snapshot event; each later one becomes a
    delta event (what changed in the top N). A message older than the last applied one of the
    same market is dropped (``handler.stale``). ``ignored`` counts tickers and the rest.
    """

    venue: ClassVar[str] = "upbit"
