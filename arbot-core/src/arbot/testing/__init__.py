"""Test support for ArBot and its plugins (shipped with arbot-core, loaded as a pytest plugin).

* :func:`shared_data` finds a file of the real captured exchange data (``../shared/data``):
  absent data skips the test with a clear reason, unless ``ARBOT_REQUIRE_SHARED_DATA=1``
  (CI), where it fails instead;
* :mod:`arbot.testing.replay` (``capture_lines`` / ``replay_lines``) replays captures through a
  connector's replay decoder (books checked applied and uncrossed on the way).
"""

from arbot.testing.data import REQUIRE_ENV, SHARED_ENV, shared_data, shared_data_dir

__all__ = ["REQUIRE_ENV", "SHARED_ENV", "shared_data", "shared_data_dir"]
