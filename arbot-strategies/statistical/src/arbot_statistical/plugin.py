"""Entry point of arbot-statistical: registers the statistical (pairs) detector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Detector

from arbot_statistical.detector import StatisticalDetector


@hookimpl
def arbot_register_detectors() -> Sequence[type[Detector]]:
    """The ``statistical`` detector."""
    return [StatisticalDetector]
