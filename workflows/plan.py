"""What the workflow runs, derived from the registered accelerators: each accelerator's network variant, its mapper
runs (content-keyed: identical runs anywhere in the sweep are one job), the inputs and settings of its table step.

Run outputs live in `<results>/runs/<key>/`; which run a layer uses is in its accelerator's `runs.json`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import accelerators
from engines.runs import RunSpec, arch_files
from specs.mapper import mapper_document
from specs.problem import render_problem
from workloads.network import Network

from .config import subset

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class PlannedRun:
    layer: str
    key: str
    spec: RunSpec
    mapper_kind: str


@lru_cache(maxsize=None)
def network(name: str, dataset: str, accelerator: str) -> Network:
    from workloads import zoo

    return zoo.load_network(name, dataset, accelerators.get(accelerator).variant)


def _portable(path: Path) -> str:
    """Paths inside the repository are stored relative to it (the workflow runs at the repository root)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def run_settings(config: dict[str, Any]) -> dict[str, Any]:
    """What every run of this config depends on besides its layer: the problem form and version, mapper settings,
    engine and options."""
    return subset(config, ("problem", "mapper", "engine", "engine_options"))


def _mapper_text(mapper: dict[str, Any], kind: str) -> str:
    search = mapper[kind]
    return _mapper_yaml(search["timeout"], search["victory_condition"], tuple(mapper["optimization_metrics"]))


@lru_cache(maxsize=None)
def _mapper_yaml(timeout: int, victory_condition: int, metrics: tuple[str, ...]) -> str:
    import yaml

    return yaml.safe_dump(mapper_document(timeout, victory_condition, metrics), sort_keys=False)


def runs(config: dict[str, Any], name: str, dataset: str, accelerator: str) -> list[PlannedRun]:
    """The mapper runs `accelerator` uses for `name`/`dataset` (its own, or those of the accelerator it re-costs)."""
    mapped = accelerators.mapped(accelerator)
    settings = {**run_settings(config), **subset(config, accelerators.get(mapped).run_reads)}
    return list(_runs(_freeze(settings), name, dataset, mapped))


@lru_cache(maxsize=None)
def _runs(frozen: str, name: str, dataset: str, accelerator: str) -> tuple[PlannedRun, ...]:
    import json

    settings = json.loads(frozen)
    plugin = accelerators.get(accelerator)
    out = []
    for run in plugin.runs(network(name, dataset, accelerator), settings):
        problem = render_problem(replace(run.problem, repeat=1, layer=""), settings["problem"]["version"])
        spec = RunSpec(_portable(run.arch), problem, run.constraints, _mapper_text(settings["mapper"], run.mapper_kind),
                       settings["engine"], settings["engine_options"])
        out.append(PlannedRun(run.name, spec.key(ROOT), spec, run.mapper_kind))
    return tuple(out)


def _freeze(settings: dict[str, Any]) -> str:
    import json

    return json.dumps(settings, sort_keys=True)


def all_runs(config: dict[str, Any]) -> dict[str, RunSpec]:
    """{key: spec} of every distinct run of the sweep."""
    from .config import pairs

    out: dict[str, RunSpec] = {}
    for pair in pairs(config):
        for accelerator in config["accelerators"]:
            for run in runs(config, pair.network, pair.dataset, accelerator):
                out.setdefault(run.key, run.spec)
    return out


def run_arch_files(spec: RunSpec) -> list[str]:
    """The architecture files a run reads (its declared inputs)."""
    return [_portable(p) for p in arch_files(spec.arch_path(ROOT))]


def table_settings(config: dict[str, Any], accelerator: str) -> dict[str, Any]:
    return subset(config, accelerators.get(accelerator).table_reads)


def artifact_settings(config: dict[str, Any], accelerator: str) -> dict[str, Any]:
    return subset(config, accelerators.get(accelerator).artifact_reads)


def table_files(accelerator: str) -> list[str]:
    """Repository files an accelerator's table step reads (its presets; a directory stands for its YAML files)."""
    files = []
    for name in accelerators.get(accelerator).table_files:
        path = ROOT / name
        files += sorted(_portable(p) for p in path.rglob("*.yaml")) if path.is_dir() else [name]
    return files
