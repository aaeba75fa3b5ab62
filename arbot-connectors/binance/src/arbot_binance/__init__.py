"""ArBot's Binance spot connector (``binance``)."""

from arbot_binance.connector import BinanceConnector, BinanceSettings
from arbot_binance.decode import BinanceReplayDecoder

__all__ = ["BinanceConnector", "BinanceReplayDecoder", "BinanceSettings"]
