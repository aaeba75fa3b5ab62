"""ArBot's Binance connector (``binance``): spot and USDⓈ-M futures."""

from arbot_binance.connector import BinanceConnector, BinanceSettings
from arbot_binance.replay import BinanceReplayDecoder

__all__ = ["BinanceConnector", "BinanceReplayDecoder", "BinanceSettings"]
