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
from arbot.trading.errors import OrderNotFound, TradingError
from arbot.trading.signed_gateway import JsonValue, SignedRestGateway
from arbot.trading.types import (
    Balance,
    DepositWithdrawNetwork,
    OrderUpdate,
    TradingFee,
    TransferState,
    WalletTransfer,
)
from arbot.trading.wallet import amount_text

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

    # -- wallet ------------------------------------------------------------------------------

    supports_withdrawals = True

    def parse_transfer(self, d: Mapping[str, JsonValue]) -> WalletTransfer:
        """A withdrawal or deposit document (``DONE``/``ACCEPTED`` completed; ``FAILED``,
        ``CANCELLED``, ``REJECTED``, ``REFUNDED`` failed; the rest pending)."""
        state_text = str(d.get("state", "")).upper()
        if state_text in ("DONE", "ACCEPTED"):
            state = TransferState.COMPLETED
        elif state_text in ("FAILED", "CANCELLED", "CANCELED", "REJECTED", "REFUNDED"):
            state = TransferState.FAILED
        else:
            state = TransferState.PENDING
        return WalletTransfer(
            self.venue,
            "withdrawal" if d.get("type") == "withdraw" else "deposit",
            str(d.get("uuid", "")),
            str(d.get("currency", "")),
            str(d.get("net_type", "")),
            number(d.get("amount")),
            number(d.get("fee")),
            state,
            "",
            str(d.get("txid") or ""),
            iso_time(d.get("created_at")),
        )

    async def withdraw(self, asset: str, network: str, amount: float, address: str) -> str:
        """``POST /v1/withdraws/coin`` (``currency``, ``net_type``, ``amount``, ``address``: the
        venue takes only addresses registered on its site); the withdrawal's ``uuid``."""
        body = {"currency": asset, "net_type": network, "amount": amount_text(amount), "address": address}
        answer = await self.call("POST", "/v1/withdraws/coin", body=body, resend=False)
        return str(json_object(self.venue, answer)["uuid"])

    async def withdrawal(self, withdrawal_id: str) -> WalletTransfer:
        """``GET /v1/withdraw?uuid=``."""
        try:
            answer = await self.call("GET", "/v1/withdraw", {"uuid": withdrawal_id})
        except TradingError as exc:
            if exc.code in ("withdraw_not_found", "notfoundwithdraw"):
                raise OrderNotFound(self.venue, f"no withdrawal {withdrawal_id}", exc.code) from exc
            raise
        return self.parse_transfer(json_object(self.venue, answer))

    async def deposits(self, asset: str | None = None) -> Sequence[WalletTransfer]:
        """``GET /v1/deposits`` (of one currency)."""
        answer = await self.call("GET", "/v1/deposits", {"currency": asset} if asset else None)
        rows = answer if isinstance(answer, list) else []
        return [self.parse_transfer(_object_or_empty(r)) for r in rows]

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
