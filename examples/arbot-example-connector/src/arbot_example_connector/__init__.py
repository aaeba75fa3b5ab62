"""A complete, minimal ArBot connector for "Toyex", a toy venue whose order books start from a
REST snapshot bridged to the stream's deltas -- the template ``docs/writing-a-connector.md``
walks through.

Modules, one job each: :mod:`~arbot_example_connector.protocol` (the wire protocol: requests,
keep-alive, frames -> core records), :mod:`~arbot_example_connector.markets` (symbols and the
metadata parser), :mod:`~arbot_example_connector.connector` (settings, the parts composed on
core's :class:`~arbot.connectors.base.StreamingConnector`, the replay decoder),
:mod:`~arbot_example_connector.emulator` (a local Toyex, for tests and offline runs) and
:mod:`~arbot_example_connector.plugin` (the entry point).
"""

from arbot_example_connector.connector import ToyexConnector, ToyexReplayDecoder, ToyexSettings

__all__ = ["ToyexConnector", "ToyexReplayDecoder", "ToyexSettings"]
