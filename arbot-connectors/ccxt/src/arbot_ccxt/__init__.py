"""arbot-ccxt: the generic fallback connector running any ccxt.pro exchange by id."""

from arbot_ccxt.connector import CcxtConnector, CcxtSettings
from arbot_ccxt.markets import market_info

__all__ = ["CcxtConnector", "CcxtSettings", "market_info"]
