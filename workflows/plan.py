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
from accelerators.base import LayerRun
from engines.runs import RunSpec, arch_files, arch_id
from specs.mapper import mapper_document
from specs.problem import render_problem
from workloads.network import Network

from .config import subset

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class PlannedRun:
    network: str
    dataset: str
    accelerator: str
    layer: str
    key: str
    spec: RunSpec
    mapper_kind: str
    reads: str = "{}"  # JSON: the plug-in's `run_reads` settings the run was planned with (e.g. hybrid's fused_blocks)


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


def run_settings(config: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
    """What the runs of this config depend on besides their layers: problem form and version, mapper settings (of
    one mapper kind when given: all a run of that kind reads), engine and options."""
    keys: tuple[str, ...] = ("problem", "engine", "engine_options", "energy_tables", "mapper.optimization_metrics")
    return subset(config, keys + ((f"mapper.{kind}",) if kind else ("mapper",)))


def _mapper_text(mapper: dict[str, Any], kind: str) -> str:
    search = mapper[kind]
    return _mapper_yaml(search["timeout"], search["victory_condition"], tuple(mapper["optimization_metrics"]))


@lru_cache(maxsize=None)
def _mapper_yaml(timeout: int, victory_condition: int, metrics: tuple[str, ...]) -> str:
    import yaml

    return yaml.safe_dump(mapper_document(timeout, victory_condition, metrics), sort_keys=False)


def _freeze(settings: dict[str, Any]) -> str:
    import json

    return json.dumps(settings, sort_keys=True)


@lru_cache(maxsize=None)
def _layer_runs(problem: str, name: str, dataset: str, accelerator: str, reads: str = "{}") -> tuple[LayerRun, ...]:
    """The plug-in's runs of a network; they depend only on the problem settings and the plug-in's `run_reads`."""
    import json

    settings = {"problem": json.loads(problem), **json.loads(reads)}
    return tuple(accelerators.get(accelerator).runs(network(name, dataset, accelerator), settings))


def _planned(run: LayerRun, settings: dict[str, Any], name: str, dataset: str, accelerator: str,
             reads: str = "{}") -> PlannedRun:
    problem = render_problem(replace(run.problem, repeat=1, layer=""), settings["problem"]["version"])
    spec = RunSpec(_portable(run.arch), problem, run.constraints, _mapper_text(settings["mapper"], run.mapper_kind),
                   settings["engine"], settings["engine_options"], settings.get("energy_tables", "paper"))
    return PlannedRun(name, dataset, accelerator, run.name, spec.key(ROOT), spec, run.mapper_kind, reads)


def run_reads(config: dict[str, Any], accelerator: str) -> str:
    """The settings besides the problem that an accelerator's runs() reads (its `run_reads`), frozen."""
    return _freeze(subset(config, accelerators.get(accelerator).run_reads))


def runs(config: dict[str, Any], name: str, dataset: str, accelerator: str) -> list[PlannedRun]:
    """The mapper runs `accelerator` uses for `name`/`dataset` (its own, or those of the accelerator it re-costs)."""
    mapped = accelerators.mapped(accelerator)
    return list(_runs(_freeze(run_settings(config)), name, dataset, mapped, run_reads(config, mapped)))


@lru_cache(maxsize=None)
def _runs(frozen: str, name: str, dataset: str, accelerator: str, reads: str = "{}") -> tuple[PlannedRun, ...]:
    import json

    settings = json.loads(frozen)
    return tuple(_planned(run, settings, name, dataset, accelerator, reads)
                 for run in _layer_runs(_freeze(settings["problem"]), name, dataset, accelerator, reads))


def all_runs(config: dict[str, Any]) -> dict[str, PlannedRun]:
    """{key: the first layer run with that key} of every distinct run of the sweep."""
    from .config import pairs

    out: dict[str, PlannedRun] = {}
    for pair in pairs(config):
        for accelerator in config["accelerators"]:
            for run in runs(config, pair.network, pair.dataset, accelerator):
                out.setdefault(run.key, run)
    return out


def find_run(settings: dict[str, Any], network: str, dataset: str, accelerator: str, layer: str) -> PlannedRun:
    """A layer's run rebuilt from the settings its mapper job receives (`run_settings(config, kind)`, plus the
    planned run's `reads` under "reads")."""
    reads = _freeze(settings.get("reads", {}))
    for run in _layer_runs(_freeze(settings["problem"]), network, dataset, accelerator, reads):
        if run.name == layer:
            return _planned(run, settings, network, dataset, accelerator, reads)
    raise KeyError(f"{accelerator} has no run for layer {layer} of {network}/{dataset}")


def run_arch_files(spec: RunSpec) -> list[str]:
    """The architecture files a run reads (its declared inputs; with derived tables, the source files of the arch
    copy that holds them)."""
    return [_portable(p) for p in arch_files(spec.arch_path(ROOT), spec.tables)]


def derived_arch(spec: RunSpec) -> str | None:
    """The directory name (under <results>/archs/) of the arch copy with derived tables a run reads, or None."""
    return arch_id(spec.arch_path(ROOT), spec.tables) if spec.tables == "derived" else None


def derived_archs(runs: dict[str, PlannedRun]) -> dict[str, str]:
    """{arch copy name: source arch directory} of every arch copy with derived tables the runs read."""
    return {name: run.spec.arch for run in runs.values() if (name := derived_arch(run.spec))}


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


def content_digest(paths: list[str]) -> str:
    """SHA-256 of the files' contents, in order (a rerun trigger that modification times can miss)."""
    import hashlib

    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()
