"""Gate.io currency pairs -> :class:`arbot.market.MarketInfo`.

Source: ``GET /api/v4/spot/currency_pairs``: ``precision`` (price decimals, tick =
10**-precision), ``amount_precision`` (step), ``min_base_amount`` (minimum quantity, when
present), ``min_quote_amount`` (minimum notional), ``fee`` (the pair's fee **in percent**, e.g.
``"0.2"`` -> 0.002, used for both maker and taker when present), ``trade_status``
(``tradable``). Without a ``fee`` field the defaults are VIP 0 spot **0.10 % / 0.10 %**
(Gate fee page 2026, ``shared/exchanges/gate.md`` §9).
"""

from __future__ import annotations

from typing import Any

from arbot.market import MarketInfo

__all__ = ["DEFAULT_MAKER_FEE", "DEFAULT_TAKER_FEE", "parse_currency_pairs"]

DEFAULT_TAKER_FEE = 0.001
DEFAULT_MAKER_FEE = 0.001


def _f(value: Any) -> float:
    try:
        return float(value) if value not in (None, "") else 0.0
    except (TypeError, ValueError):
        return 0.0


def parse_currency_pairs(
    body: list[Any],
    venue: str = "gate",
    taker_fee: float = DEFAULT_TAKER_FEE,
    maker_fee: float = DEFAULT_MAKER_FEE,
) -> list[MarketInfo]:
    """Every pair of a ``/spot/currency_pairs`` body as a ``MarketInfo`` (the pair's own
    ``fee`` when present, else ``taker_fee``/``maker_fee``)."""
    out = []
    for p in body:
        fee = p.get("fee")
        taker = maker = None
        if fee not in (None, ""):
            taker = maker = float(fee) / 100.0
        out.append(
            MarketInfo(
                venue=venue,
                symbol=f"{p['base']}/{p['quote']}",
                base=str(p["base"]),
                quote=str(p["quote"]),
                venue_symbol=str(p["id"]),
                tick_size=10.0 ** -int(p["precision"]) if "precision" in p else 0.0,
                step_size=10.0 ** -int(p["amount_precision"]) if "amount_precision" in p else 0.0,
                min_qty=_f(p.get("min_base_amount")),
                min_notional=_f(p.get("min_quote_amount")),
                taker_fee=taker_fee if taker is None else taker,
                maker_fee=maker_fee if maker is None else maker,
                active=p.get("trade_status", "tradable") == "tradable",
            )
        )
    return out
