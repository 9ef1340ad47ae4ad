"""Engines: the `Engine` interface, its backends and the Timeloop output parsers."""

from .base import Engine, EngineError, engine_names, get_engine
from .mapping import LevelMapping, Loop, Mapping
from .stats import LayerStats, LevelStats, TensorStats

__all__ = [
    "Engine",
    "EngineError",
    "engine_names",
    "get_engine",
    "Loop",
    "LevelMapping",
    "Mapping",
    "LayerStats",
    "LevelStats",
    "TensorStats",
]
