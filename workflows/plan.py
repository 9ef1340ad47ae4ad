"""What the workflow runs, derived from the registered accelerators: each accelerator's network variant, its mapper
runs (content-keyed: identical runs anywhere in the sweep are one job), the inputs and settings of its table step.

Run outputs live in `<results>/runs/<key>/`; which run a layer uses is in its accelerator's `runs.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
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
    options: str = "{}"  # JSON: the run options it was planned with (a map job rebuilds it from these)


@cache
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
    """What the runs of this config depend on besides their layers and the plug-ins' run options: problem form and
    version, mapper settings (of one mapper kind when given: all a run of that kind reads), engine and options,
    energy tables, and whether recorded mappings are evaluated instead of searched."""
    # problem: only what shapes the runs (the depthwise fix keys are table-step settings; a mapper job that
    # received them would re-run when they change)
    keys: tuple[str, ...] = (
        "problem.version",
        "problem.depthwise",
        "engine",
        "engine_options",
        "energy_tables",
        "mapping",
        "mapper.optimization_metrics",
    )
    return subset(config, keys + ((f"mapper.{kind}",) if kind else ("mapper",)))


def run_options(config: dict[str, Any], name: str, dataset: str, accelerator: str) -> dict[str, Any]:
    """The plug-in's run options for one network (e.g. ARCHON's prediction arch), resolved from the config."""
    return accelerators.get(accelerator).run_options(network(name, dataset, accelerator), config)


def _mapper_text(mapper: dict[str, Any], kind: str, tie_break: str = "first") -> str:
    search = mapper[kind]
    return _mapper_yaml(
        search["timeout"], search["victory_condition"], tuple(mapper["optimization_metrics"]), tie_break
    )


@cache
def _mapper_yaml(timeout: int, victory_condition: int, metrics: tuple[str, ...], tie_break: str) -> str:
    import yaml

    return yaml.safe_dump(mapper_document(timeout, victory_condition, metrics, tie_break=tie_break), sort_keys=False)


def _freeze(settings: dict[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True)


@cache
def _layer_runs(problem: str, options: str, name: str, dataset: str, accelerator: str) -> tuple[LayerRun, ...]:
    """The plug-in's runs of a network; they depend only on the problem settings and its run options."""
    import json

    settings = {"problem": json.loads(problem), "options": json.loads(options)}
    return tuple(accelerators.get(accelerator).runs(network(name, dataset, accelerator), settings))


def _planned(run: LayerRun, settings: dict[str, Any], name: str, dataset: str, accelerator: str) -> PlannedRun:
    problem = render_problem(replace(run.problem, repeat=1, layer=""), settings["problem"]["version"])
    tables = settings.get("energy_tables", "paper")
    recorded = _recorded(run, name, dataset, accelerator) if settings.get("mapping") == "artifact" else None
    if recorded is not None:  # the artifact's mapping of exactly this problem, on the arch it used
        spec = RunSpec(
            _portable(recorded.arch_dir),
            problem,
            "",
            "",
            settings["engine"],
            settings["engine_options"],
            tables,
            json.dumps(recorded.mapping.to_dict(), sort_keys=True),
        )
    else:
        spec = RunSpec(
            _portable(run.arch),
            problem,
            run.constraints,
            _mapper_text(settings["mapper"], run.mapper_kind, run.tie_break),
            settings["engine"],
            settings["engine_options"],
            tables,
        )
    return PlannedRun(
        name,
        dataset,
        accelerator,
        run.name,
        spec.key(ROOT),
        spec,
        run.mapper_kind,
        _freeze(settings.get("options") or {}),
    )


def _recorded(run: LayerRun, name: str, dataset: str, accelerator: str):
    """The paper artifact's recorded run of this layer's exact problem (analysis.artifact_runs), or None."""
    from analysis.artifact_runs import matching_run

    variant = accelerators.get(accelerator).variant
    return matching_run(name, dataset, variant, run.layer, run.problem.shape, dict(run.problem.instance))


def runs(config: dict[str, Any], name: str, dataset: str, accelerator: str) -> list[PlannedRun]:
    """The mapper runs `accelerator` uses for `name`/`dataset` (its own, or those of the accelerator it re-costs)."""
    mapped = accelerators.mapped(accelerator)
    settings = {**run_settings(config), "options": run_options(config, name, dataset, mapped)}
    return list(_runs(_freeze(settings), name, dataset, mapped))


@cache
def _runs(frozen: str, name: str, dataset: str, accelerator: str) -> tuple[PlannedRun, ...]:
    settings = json.loads(frozen)
    layer_runs = _layer_runs(_freeze(settings["problem"]), _freeze(settings["options"]), name, dataset, accelerator)
    return tuple(_planned(run, settings, name, dataset, accelerator) for run in layer_runs)


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
    """A layer's run rebuilt from the settings its mapper job receives (`run_settings(config, kind)` and the
    network's run `options`)."""
    for run in _layer_runs(
        _freeze(settings["problem"]), _freeze(settings.get("options") or {}), network, dataset, accelerator
    ):
        if run.name == layer:
            return _planned(run, settings, network, dataset, accelerator)
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
