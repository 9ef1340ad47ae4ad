"""The `Engine` interface every backend implements.

Inputs are the files `timeloop-mapper` takes:

* `arch`: an architecture directory holding `arch.yaml`, `components/*.yaml`
  and optionally `ERT.yaml` (an Accelergy energy reference table);
* `problem`: a Timeloop problem YAML;
* `constraints`: one or more constraint YAMLs (architecture + mapspace);
* `mapper`: mapper settings YAML (`mapper:` section).

`evaluate` searches for a mapping; `model` evaluates a given one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from .mapping import Mapping
from .stats import LayerStats

PathLike = str | Path


class EngineError(RuntimeError):
    """An engine could not produce a result (missing binary, no valid mapping, bad input)."""


class Engine(ABC):
    name: str = "abstract"

    @abstractmethod
    def evaluate(
        self,
        arch: PathLike,
        problem: PathLike,
        constraints: Sequence[PathLike],
        mapper: PathLike,
        *,
        outdir: PathLike | None = None,
        threads: int = 1,
    ) -> LayerStats:
        """Search the constrained mapspace and return the best mapping's stats."""

    @abstractmethod
    def model(
        self, arch: PathLike, problem: PathLike, mapping: Mapping, *, outdir: PathLike | None = None
    ) -> LayerStats:
        """Evaluate one fixed mapping."""


_REGISTRY: dict[str, str] = {
    "embedded": "engines.embedded:EmbeddedEngine",
    "timeloop": "engines.timeloop:TimeloopEngine",
    "pytimeloop": "engines.pytimeloop_backend:PyTimeloopEngine",
}


def engine_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def get_engine(name: str, **options) -> Engine:
    """Instantiate an engine by its config name (embedded | timeloop | pytimeloop)."""
    if name not in _REGISTRY:
        raise EngineError(f"unknown engine {name!r}; choose one of {', '.join(_REGISTRY)}")
    module_name, cls_name = _REGISTRY[name].split(":")
    import importlib

    module = importlib.import_module(module_name)
    return getattr(module, cls_name)(**options)
