"""ArBot: a plugin-based framework for crypto arbitrage bots.

The plugin contract is in :mod:`arbot.hookspecs`; component base classes in
:mod:`arbot.components`; :class:`arbot.bot.Bot` builds and runs a bot from a configuration.
"""

from arbot.hookspecs import hookimpl

__version__ = "0.2.0"
__all__ = ["__version__", "hookimpl"]
