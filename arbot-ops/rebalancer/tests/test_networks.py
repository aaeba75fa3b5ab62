"""Network names across venues, the ccxt fee table read in place, and the network choice."""

from __future__ import annotations

import pytest
from arbot.errors import ConfigError
from arbot.testing.data import shared_data
from arbot.trading.types import DepositWithdrawNetwork
from arbot_rebalancer import FeeTable, canonical_network, choose_network

FEES = "fees/ccxt_withdraw_fees_btc_usdt_binance_okx_bybit_kucoin.csv"


@pytest.fixture(scope="module")
def table() -> FeeTable:
    return FeeTable.from_csv(shared_data(FEES))


@pytest.mark.parametrize(
    ("asset", "name", "canonical"),
    [
        ("USDT", "TRX", "TRC20"),
        ("USDT", "USDT-TRC20", "TRC20"),
        ("USDT", "trx", "TRC20"),
        ("USDT", "USDT-Arbitrum One", "ARBITRUM"),
        ("USDT", "ARBI", "ARBITRUM"),
        ("USDT", "MATIC", "POLYGON"),
        ("BTC", "BTC-Bitcoin", "BITCOIN"),
        ("BTC", "BTC", "BITCOIN"),
        ("BTC", "bech32", "BTC-SEGWIT"),
        ("USDT", "NEWCHAIN", "NEWCHAIN"),
    ],
)
def test_every_venue_name_of_a_chain_maps_to_one(asset, name, canonical):
    assert canonical_network(asset, name) == canonical


def test_the_shared_fee_table(table):
    binance_btc = {n.network: n for n in table.networks("binance", "BTC")}
    assert binance_btc["BTC"].withdraw_fee == 0.0001 and binance_btc["BTC"].withdraw_min == 0.00015
    assert not binance_btc["SEGWITBTC"].withdraw_enabled
    # Bybit's OMNI row has no fee: skipped, not read as free
    assert "OMNI" not in {n.network for n in table.networks("bybit", "USDT")}
    assert table.venues() == {"binance", "okx", "bybit", "kucoin"}


def test_cheapest_open_chain_both_ends_support(table):
    # Binance -> OKX, 5,000 USDT: AVAX C-Chain at 0.087 is the cheapest chain open on both
    c = choose_network(
        "USDT", 5000, table.networks("binance", "USDT"), table.networks("okx", "USDT"), price_usd=1.0
    )
    assert (c.network, c.canonical, c.fee) == ("AVAXC", "AVAXC", 0.087)
    # KuCoin has no AVAXC but takes deposits on Optimism (its own Optimism withdrawals are closed,
    # which does not matter for a deposit): Binance's 0.025 Optimism fee wins
    c = choose_network(
        "USDT", 5000, table.networks("binance", "USDT"), table.networks("kucoin", "USDT"), price_usd=1.0
    )
    assert (c.canonical, c.fee) == ("OPTIMISM", 0.025)
    # the other way, KuCoin's closed Optimism withdrawals rule it out
    c = choose_network(
        "USDT", 5000, table.networks("kucoin", "USDT"), table.networks("binance", "USDT"), price_usd=1.0
    )
    # (and Binance has no KCC): Solana at 0.8 is the cheapest common chain
    assert (c.network, c.canonical, c.fee) == ("sol", "SOL", 0.8)


def test_preferred_networks_win_when_usable(table):
    src, dst = table.networks("binance", "USDT"), table.networks("okx", "USDT")
    c = choose_network("USDT", 5000, src, dst, price_usd=1.0, preferred=["TRC20", "SOL", "Arbitrum"])
    assert c.canonical == "ARBITRUM"  # the cheapest of the preferred (0.1 vs TRC20 1, SOL 1.5)
    # a preference for a chain the destination lacks falls back to the cheapest of all
    c = choose_network("USDT", 5000, src, dst, price_usd=1.0, preferred=["XTZ"])
    assert c.canonical == "AVAXC"


def test_time_in_transit_is_a_cost(table):
    src, dst = table.networks("binance", "BTC"), table.networks("okx", "BTC")
    # 0.01 BTC: Lightning (0.000001 fee, 0.1 min) beats Bitcoin (0.0001 fee, 30 min)
    c = choose_network("BTC", 0.01, src, dst, price_usd=90_000, time_cost_pct_per_hour=0.01)
    assert c.canonical == "LIGHTNING"
    # with Lightning closed at the destination, Bitcoin: fee 0.0001 plus half an hour of 0.5 BTC
    no_ln = [n for n in dst if canonical_network("BTC", n.network) != "LIGHTNING"]
    c = choose_network("BTC", 0.5, src, no_ln, price_usd=90_000, time_cost_pct_per_hour=0.01)
    assert c.canonical == "BITCOIN" and c.minutes == 30.0
    assert c.cost_usd == pytest.approx(0.0001 * 90_000 + 0.5 * 90_000 * 0.0001 * 0.5)
    # a slow cheap chain loses to a fast dear one when time is expensive
    slow = DepositWithdrawNetwork("X", "SLOW", 1.0, 0, True, True, estimated_minutes=600)
    fast = DepositWithdrawNetwork("X", "FAST", 2.0, 0, True, True, estimated_minutes=1)
    assert choose_network("X", 1000, [slow, fast], [], price_usd=1.0).network == "SLOW"
    assert (
        choose_network("X", 1000, [slow, fast], [], price_usd=1.0, time_cost_pct_per_hour=0.1).network
        == "FAST"
    )


def test_minimums_fees_and_closed_networks_are_respected():
    closed = DepositWithdrawNetwork("USDT", "TRX", 1.0, 10.0, True, False)
    opened = DepositWithdrawNetwork("USDT", "ETH", 3.2, 20.0, True, True)
    assert choose_network("USDT", 500, [closed], [], price_usd=1.0) is None
    assert choose_network("USDT", 15, [opened], [], price_usd=1.0) is None  # under the minimum
    assert choose_network("USDT", 25, [opened], [], price_usd=1.0).network == "ETH"
    no_deposit = DepositWithdrawNetwork("USDT", "USDT-ERC20", 1.0, 1.0, False, True)
    assert choose_network("USDT", 25, [opened], [no_deposit], price_usd=1.0) is None


def test_a_broken_fee_table_names_the_file_and_line(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(ConfigError, match=r"nope\.csv"):
        FeeTable.from_csv(missing)
    bad = tmp_path / "bad.csv"
    bad.write_text("exchange,coin,network_id,withdraw_fee,withdraw_min\nbinance,BTC,BTC,abc,1\n")
    with pytest.raises(ConfigError, match=r"bad.csv:2: bad number"):
        FeeTable.from_csv(bad)
    cols = tmp_path / "cols.csv"
    cols.write_text("exchange,coin\nbinance,BTC\n")
    with pytest.raises(ConfigError, match="missing columns"):
        FeeTable.from_csv(cols)
