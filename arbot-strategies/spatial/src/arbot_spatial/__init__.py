"""Spatial (cross-exchange) arbitrage detection for ArBot."""

from arbot_spatial.detector import SpatialDetector, SpatialSettings, detect_spatial_opportunity, walk_pair

__all__ = ["SpatialDetector", "SpatialSettings", "detect_spatial_opportunity", "walk_pair"]
