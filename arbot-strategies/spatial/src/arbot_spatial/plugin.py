"""Entry point of arbot-spatial: registers the spatial detector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Detector

from arbot_spatial.detector import SpatialDetector


@hookimpl
def arbot_register_detectors() -> Sequence[type[Detector]]:
    """The ``spatial`` detector."""
    return [SpatialDetector]
