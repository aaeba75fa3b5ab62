"""Exceptions raised by ArBot. Every error says what went wrong and where."""

from __future__ import annotations


class ArbotError(Exception):
    """Base class of every error ArBot raises on purpose."""


class ConfigError(ArbotError):
    """A configuration file or value is invalid; the message names the key, value and file."""


class PluginConflictError(ArbotError):
    """Two plugins registered a component of one kind under the same name."""


class UnknownComponentError(ConfigError):
    """A configuration names a component that no loaded plugin provides."""


class PluginLoadError(ArbotError):
    """A plugin's entry point failed to import or register."""


class DataError(ArbotError):
    """Input data (a recording, a message, a snapshot) is malformed or inconsistent."""


class LiveTradingNotEnabledError(ArbotError):
    """Live trading was requested without the explicit opt-in."""


class ComponentFailure(ArbotError):
    """A plugin component raised while the run's policy was ``stop``; the message names it."""


class DataLossError(ArbotError):
    """Events were lost (a sink could neither store nor spill them): the run failed."""
