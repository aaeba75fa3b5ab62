"""Networks an asset can move on, and the choice of one for a transfer (TRD §3.6 network selector).

Venues name the same chain differently (Binance ``TRX``, OKX ``USDT-TRC20``, Bybit ``TRX`` with
the name ``TRC20``, KuCoin ``trx``); :func:`canonical_network` maps them to one name, so a
withdrawal network on one venue can be matched with a deposit network on another.
:class:`FeeTable` reads ccxt's withdrawal-fee CSV, the fallback where a venue gives no live
network data; :func:`choose_network` picks the cheapest usable network (fee plus the cost of the
time in transit), trying the preferred networks first.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
from arbot.errors import ConfigError
from arbot.trading.types import DepositWithdrawNetwork

__all__ = ["DEFAULT_MINUTES", "FeeTable", "NetworkChoice", "canonical_network", "choose_network"]

_ALIASES: dict[str, str] = {
    "TRX": "TRC20", "TRON": "TRC20", "TRON (TRC20)": "TRC20", "TRC20": "TRC20",
    "ETH": "ERC20", "ERC20": "ERC20", "ETHEREUM": "ERC20", "ETHEREUM (ERC20)": "ERC20",
    "BSC": "BEP20", "BEP20": "BEP20", "BSC (BEP20)": "BEP20", "BNB SMART CHAIN (BEP20)": "BEP20",
    "BTC": "BITCOIN", "BITCOIN": "BITCOIN",
    "LIGHTNING": "LIGHTNING", "LIGHTNING NETWORK": "LIGHTNING",
    "SOL": "SOL", "SOLANA": "SOL",
    "ARBITRUM": "ARBITRUM", "ARBI": "ARBITRUM", "ARBITRUM ONE": "ARBITRUM",
    "MATIC": "POLYGON", "POLYGON": "POLYGON",
    "OP": "OPTIMISM", "OPTIMISM": "OPTIMISM",
    "AVAXC": "AVAXC", "CAVAX": "AVAXC", "AVALANCHE C-CHAIN": "AVAXC", "AVAX C-CHAIN": "AVAXC",
    "KAVAEVM": "KAVAEVM", "KAVA EVM CO-CHAIN": "KAVAEVM",
    "SEGWITBTC": "BTC-SEGWIT", "BECH32": "BTC-SEGWIT", "BTC-SEGWIT": "BTC-SEGWIT",
}  # fmt: skip

#: Confirmation minutes when a venue gives none (TRD §3.6 table; Bitcoin-family at 30).
DEFAULT_MINUTES: dict[str, float] = {
    "TRC20": 3.0, "SOL": 1.0, "ARBITRUM": 2.0, "ERC20": 12.0, "LIGHTNING": 0.1, "BITCOIN": 30.0,
    "BEP20": 1.0, "POLYGON": 5.0, "OPTIMISM": 2.0, "AVAXC": 1.0, "BTC-SEGWIT": 30.0,
}  # fmt: skip
_UNKNOWN_MINUTES = 30.0


def canonical_network(asset: str, name: str) -> str:
    """One name for a chain whatever the venue calls it (``USDT-TRC20``, ``trx`` -> ``TRC20``)."""
    key = name.strip().upper()
    prefix = f"{asset.upper()}-"
    if key.startswith(prefix) and key not in _ALIASES:
        key = key[len(prefix) :]
    return _ALIASES.get(key, key)


@attrs.frozen(slots=True)
class NetworkChoice:
    """The network a transfer uses: the source venue's id for it, fee, minimum and delay."""

    network: str  # the source venue's own id (what its withdraw API wants)
    canonical: str
    fee: float  # in the asset
    minimum: float
    minutes: float
    cost_usd: float  # fee plus the cost of the time in transit, for the amount asked


def _flag(raw: str) -> bool | None:
    v = raw.strip().lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    return None


class FeeTable:
    """Withdrawal networks per (venue, asset) from ccxt's fee CSV (columns ``exchange, coin,
    network_id, network_name, withdraw_fee, withdraw_fee_max, withdraw_min, withdraw_max,
    deposit_enabled, withdraw_enabled``). Rows without a fee are skipped (unknown cost); an
    unknown enabled flag counts as closed."""

    _COLUMNS = ("exchange", "coin", "network_id", "withdraw_fee", "withdraw_min")

    def __init__(
        self, rows: Mapping[tuple[str, str], Sequence[DepositWithdrawNetwork]] | None = None
    ) -> None:
        self._rows: dict[tuple[str, str], list[DepositWithdrawNetwork]] = {
            k: list(v) for k, v in (rows or {}).items()
        }

    @classmethod
    def from_csv(cls, path: Path) -> FeeTable:
        """Read the CSV; a missing file or column, or a malformed number, is a ConfigError naming it."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"rebalancer fee_table {path}: {exc.strerror or exc}") from None
        reader = csv.DictReader(text.splitlines())
        missing = [c for c in cls._COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"rebalancer fee_table {path}: missing columns {missing}")
        rows: dict[tuple[str, str], list[DepositWithdrawNetwork]] = {}
        for line, row in enumerate(reader, start=2):
            if not row["withdraw_fee"].strip():
                continue
            try:
                fee = float(row["withdraw_fee"])
                minimum = float(row["withdraw_min"] or 0.0)
            except ValueError:
                raise ConfigError(
                    f"rebalancer fee_table {path}:{line}: bad number in {row['withdraw_fee']!r} "
                    f"/ {row['withdraw_min']!r}"
                ) from None
            if not (math.isfinite(fee) and fee >= 0 and math.isfinite(minimum) and minimum >= 0):
                raise ConfigError(f"rebalancer fee_table {path}:{line}: fee and minimum must be >= 0")
            asset = row["coin"].strip().upper()
            rows.setdefault((row["exchange"].strip().lower(), asset), []).append(
                DepositWithdrawNetwork(
                    asset=asset,
                    network=row["network_id"].strip(),
                    withdraw_fee=fee,
                    withdraw_min=minimum,
                    deposit_enabled=bool(_flag(row.get("deposit_enabled") or "")),
                    withdraw_enabled=bool(_flag(row.get("withdraw_enabled") or "")),
                )
            )
        return cls(rows)

    def networks(self, venue: str, asset: str) -> list[DepositWithdrawNetwork]:
        """The networks of ``asset`` on ``venue`` (empty when the table has none)."""
        return list(self._rows.get((venue, asset), []))

    def replace(self, venue: str, asset: str, networks: Sequence[DepositWithdrawNetwork]) -> None:
        """Replace the networks of ``asset`` on ``venue`` (live data from a gateway)."""
        self._rows[(venue, asset)] = list(networks)

    def venues(self) -> set[str]:
        """Venues the table knows."""
        return {v for v, _ in self._rows}


def _minutes(net: DepositWithdrawNetwork, canonical: str, overrides: Mapping[str, float]) -> float:
    if canonical in overrides:
        return overrides[canonical]
    if net.estimated_minutes is not None and net.estimated_minutes > 0:
        return net.estimated_minutes
    return DEFAULT_MINUTES.get(canonical, _UNKNOWN_MINUTES)


def choose_network(
    asset: str,
    amount: float,
    source: Sequence[DepositWithdrawNetwork],
    destination: Sequence[DepositWithdrawNetwork],
    *,
    price_usd: float,
    preferred: Sequence[str] = (),
    minutes: Mapping[str, float] | None = None,
    time_cost_pct_per_hour: float = 0.0,
) -> NetworkChoice | None:
    """The cheapest network to withdraw ``amount`` of ``asset`` from ``source`` to ``destination``.

    Usable: withdrawals open on the source, ``amount`` at or above its minimum and above its
    fee, and deposits open on the destination for the same chain (any chain when the
    destination's networks are unknown). Cost: the fee plus ``amount`` in transit at
    ``time_cost_pct_per_hour``. Preferred networks (canonical names, in order) win whenever one
    of them is usable; ties go to the earlier preference. None when nothing is usable.
    """
    overrides = {canonical_network(asset, k): v for k, v in (minutes or {}).items()}
    open_in = {canonical_network(asset, n.network) for n in destination if n.deposit_enabled}
    rank = {canonical_network(asset, p): i for i, p in enumerate(preferred)}
    usable: list[tuple[int, float, NetworkChoice]] = []
    for net in source:
        canonical = canonical_network(asset, net.network)
        if not net.withdraw_enabled or amount < net.withdraw_min or amount <= net.withdraw_fee:
            continue
        if destination and canonical not in open_in:
            continue
        mins = _minutes(net, canonical, overrides)
        cost = (net.withdraw_fee + amount * time_cost_pct_per_hour / 100.0 * mins / 60.0) * price_usd
        choice = NetworkChoice(net.network, canonical, net.withdraw_fee, net.withdraw_min, mins, cost)
        usable.append((rank.get(canonical, len(rank)), cost, choice))
    if not usable:
        return None
    if any(r < len(rank) for r, _, _ in usable):
        usable = [u for u in usable if u[0] < len(rank)]
    usable.sort(key=lambda u: (u[1], u[0], u[2].network))
    return usable[0][2]
