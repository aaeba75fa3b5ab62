"""Entry point of arbot-triangular: registers the triangular detector."""

from __future__ import annotations

from collections.abc import Sequence

from arbot import hookimpl
from arbot.components import Detector

from arbot_triangular.detector import TriangularDetector


@hookimpl
def arbot_register_detectors() -> Sequence[type[Detector]]:
    """The ``triangular`` detector."""
    return [TriangularDetector]
