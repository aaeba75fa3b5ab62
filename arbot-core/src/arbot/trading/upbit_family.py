"""What the Upbit and Bithumb trading gateways share: Bithumb's current private API has Upbit's
shape, so balances (``/v1/accounts``), fees (``/v1/orders/chance``), networks
(``/v1/withdraws/chance``), the ``myOrder`` stream frames and the market codes
(``KRW-BTC``) are read the same way. A venue's gateway keeps its signing, its order paths and
fields, its errors and its order documents.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime

import msgspec

from arbot.connectors.ws import GarbageFrame, WsSession
from arbot.trading.errors import TradingError
from arbot.trading.signed_gateway import JsonValue, SignedRestGateway
from arbot.trading.types import Balance, DepositWithdrawNetwork, OrderUpdate, TradingFee

__all__ = ["UpbitFamilyGateway", "iso_time", "json_object", "number"]


def number(value: JsonValue) -> float:
    """A number of an answer (text or number); 0.0 for a missing or empty one."""
    if value is None or value == "" or isinstance(value, (dict, list)):
        return 0.0
    return float(value)


def iso_time(text: JsonValue) -> float:
    """An ISO 8601 time of an answer in epoch seconds; 0.0 when it is not one."""
    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return 0.0


def json_object(venue: str, value: JsonValue) -> dict[str, JsonValue]:
    """``value`` as a JSON object; a :class:`TradingError` naming the venue otherwise."""
    if not isinstance(value, dict):
        raise TradingError(venue, f"unexpected answer {value!r:.200}")
    return value


def _object_or_empty(value: JsonValue) -> dict[str, JsonValue]:
    return value if isinstance(value, dict) else {}


class UpbitFamilyGateway(SignedRestGateway):
    """Base of the Upbit and Bithumb gateways (see the module docstring)."""

    #: The private stream, while it runs.
    ws: WsSession | None = None

    @abstractmethod
    def parse_my_order(self, msg: Mapping[str, JsonValue]) -> OrderUpdate:
        """The order update of one ``myOrder`` frame."""

    def _symbol_of(self, code: str) -> str:
        for m in self.markets.values():
            if m.venue_symbol == code:
                return m.symbol
        quote, _, base = code.partition("-")
        return f"{base}/{quote}"

    async def balances(self) -> dict[str, Balance]:
        """``GET /v1/accounts``: ``balance`` (free) and ``locked``."""
        data = await self.call("GET", "/v1/accounts")
        rows = [_object_or_empty(a) for a in (data if isinstance(data, list) else [])]
        return {
            str(a["currency"]): Balance(str(a["currency"]), number(a.get("balance")), number(a.get("locked")))
            for a in rows
        }

    async def trading_fees(self, symbols: Sequence[str]) -> dict[str, TradingFee]:
        """``GET /v1/orders/chance``: ``maker_bid_fee`` / ``bid_fee``."""
        out: dict[str, TradingFee] = {}
        for sym in symbols:
            answer = await self.call("GET", "/v1/orders/chance", {"market": self.market(sym).venue_symbol})
            d = json_object(self.venue, answer)
            out[sym] = TradingFee(
                sym, number(d.get("maker_bid_fee", d.get("bid_fee"))), number(d.get("bid_fee"))
            )
        return out

    async def networks(self, asset: str) -> Sequence[DepositWithdrawNetwork]:
        """``GET /v1/withdraws/chance?currency=&net_type=`` (the asset's own network)."""
        answer = await self.call("GET", "/v1/withdraws/chance", {"currency": asset, "net_type": asset})
        d = json_object(self.venue, answer)
        cur, lim = _object_or_empty(d.get("currency")), _object_or_empty(d.get("withdraw_limit"))
        support = cur.get("wallet_support")
        ways = [str(s) for s in support] if isinstance(support, list) else []
        return [
            DepositWithdrawNetwork(
                asset,
                asset,
                number(cur.get("withdraw_fee")),
                number(lim.get("minimum")),
                "deposit" in ways,
                "withdraw" in ways and bool(lim.get("can_withdraw")),
            )
        ]

    async def stream_settled(self) -> None:
        """The reconnected ``myOrder`` subscription is sent (the venue does not answer it)."""
        if self.ws is not None:
            await self.ws.wait_connected()

    def _on_frame(self, frame: str | bytes, recv_time: float) -> None:
        msg = msgspec.json.decode(frame)
        if not isinstance(msg, dict):
            raise GarbageFrame("not an object")
        if msg.get("type") != "myOrder":
            return
        self.publish(self.parse_my_order(msg))

    async def close(self) -> None:
        """Close the private stream and the REST session."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
        await super().close()
