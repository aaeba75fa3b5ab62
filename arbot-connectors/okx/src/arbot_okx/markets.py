"""OKX instrument metadata -> :class:`arbot.market.MarketInfo`.

Source: the body of ``GET /api/v5/public/instruments?instType=SPOT`` (``tickSz``, ``lotSz``,
``minSz``, ``state``). Fees are not in that body; the defaults are OKX's Regular-user Lv1 spot
rates, **0.100 % taker / 0.080 % maker** (okx.com/fees, see ``shared/exchanges/okx.md`` §9).
An account's real rates come from ``GET /api/v5/account/trade-fee`` and override these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arbot.connectors.parsing import number
from arbot.market import MarketInfo

from arbot_okx.symbols import unified_from_instrument

__all__ = ["DEFAULT_MAKER_FEE", "DEFAULT_TAKER_FEE", "parse_instruments"]

DEFAULT_TAKER_FEE = 0.001
DEFAULT_MAKER_FEE = 0.0008


def parse_instruments(
    body: Mapping[str, Any] | list[Any],
    *,
    taker_fee: float = DEFAULT_TAKER_FEE,
    maker_fee: float = DEFAULT_MAKER_FEE,
    venue: str = "okx",
) -> list[MarketInfo]:
    """Every instrument of an instruments response body as a ``MarketInfo``.

    For derivatives ``min_qty``/``step_size`` are in contracts (OKX's own unit).
    """
    data = body.get("data", []) if isinstance(body, Mapping) else body
    out: list[MarketInfo] = []
    for inst in data:
        unified = unified_from_instrument(inst)
        base, _, rest = unified.partition("/")
        quote = rest.partition(":")[0]
        out.append(
            MarketInfo(
                venue=venue,
                symbol=unified,
                base=base,
                quote=quote,
                venue_symbol=str(inst["instId"]),
                tick_size=number(inst.get("tickSz")),
                step_size=number(inst.get("lotSz")),
                min_qty=number(inst.get("minSz")),
                min_notional=0.0,
                taker_fee=taker_fee,
                maker_fee=maker_fee,
                active=inst.get("state", "live") == "live",
            )
        )
    return out
