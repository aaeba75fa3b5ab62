"""Triangular (and 4-cycle) arbitrage on one venue's market graph for ArBot."""

from arbot_triangular.cycles import Cycle, MarketGraph
from arbot_triangular.detector import TriangularDetector, TriangularSettings
from arbot_triangular.sizing import CycleFill, size_cycle

__all__ = ["Cycle", "CycleFill", "MarketGraph", "TriangularDetector", "TriangularSettings", "size_cycle"]
