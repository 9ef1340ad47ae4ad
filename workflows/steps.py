"""The workflow's steps: thin functions that read inputs, call the packages and write outputs atomically."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import plan
from .files import atomic_dir, atomic_path, write_text

RUN_FILE = "run.json"  # per layer run: arch, repeat, the Layer, the mapper kind


def problems(network: str, dataset: str, accelerator: str, settings: dict, out: Path) -> None:
    """One directory per layer run: problem.yaml, constraints.yaml, mapper.yaml, run.json."""
    from workloads.constraints import render_constraints
    from workloads.problem import problems_for, render_problem

    from .recipes import mapper_yaml, recipe

    net = plan.network(network, dataset, accelerator)
    with atomic_dir(out) as tmp:
        for layer in net.layers():
            (problem,) = problems_for(layer, depthwise=settings["problem"]["depthwise"])
            run = recipe(accelerator, net, layer, problem, settings)
            layer_dir = tmp / layer.name
            layer_dir.mkdir()
            (layer_dir / "problem.yaml").write_text(render_problem(problem, version=settings["problem"]["version"]))
            (layer_dir / "constraints.yaml").write_text(
                render_constraints(run.constraints_template, problem.dimensions, **run.constraint_params)
            )
            (layer_dir / "mapper.yaml").write_text(mapper_yaml(settings["mapper"], run.mapper_kind))
            meta = {
                "network": network, "dataset": dataset, "accelerator": accelerator,
                "arch": _portable(run.arch),
                "repeat": problem.repeat,
                "mapper_kind": run.mapper_kind,
                "layer": layer.to_dict(),
                "problem": {"shape": problem.shape, "instance": dict(problem.instance)},
            }
            (layer_dir / RUN_FILE).write_text(json.dumps(meta, indent=1) + "\n")


def _portable(path: Path) -> str:
    """Paths inside the repository are stored relative to it (the workflow runs at the repository root)."""
    root = Path(__file__).resolve().parents[1]
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


def map_layer(inputs: Path, settings: dict, threads: int, out: Path) -> None:
    """Map one layer with the configured engine; write its LayerStats as JSON.

    With `mapping: artifact` a layer whose exact problem the paper artifact recorded is not searched: the engine
    evaluates the mapping Timeloop chose there, on the architecture that run used (analysis.artifact_runs)."""
    from engines import get_engine

    meta = json.loads((inputs / RUN_FILE).read_text())
    engine = get_engine(settings["engine"], **(settings.get("engine_options") or {}))
    recorded = recorded_artifact_run(meta) if settings.get("mapping", "search") == "artifact" else None
    if recorded is not None:
        stats = engine.model(recorded.arch_dir, inputs / "problem.yaml", recorded.mapping, outdir=out.parent)
        source, arch = f"artifact:{recorded.key}", _portable(recorded.arch_dir)
    else:
        stats = engine.evaluate(
            meta["arch"],
            inputs / "problem.yaml",
            [inputs / "constraints.yaml"],
            inputs / "mapper.yaml",
            outdir=out.parent,
            threads=threads,
        )
        source, arch = "search", meta["arch"]
    stats.meta.update({"layer": meta["layer"], "repeat": meta["repeat"], "arch": arch, "mapping_source": source})
    with atomic_path(out) as tmp:
        stats.to_json(tmp)


def recorded_artifact_run(meta: dict):
    """The artifact's recorded run of this layer's exact problem (an analysis.artifact_runs.ArtifactRun), or None."""
    from analysis.artifact_runs import matching_run
    from workloads.layer import Layer

    from .plan import VARIANT

    if "network" not in meta:  # problems written before run.json named the network
        return None
    layer = Layer.from_dict(meta["layer"])
    return matching_run(meta["network"], meta["dataset"], VARIANT[meta["accelerator"]], layer,
                        meta["problem"]["shape"], meta["problem"]["instance"])


def prune(network: str, dataset: str, settings: dict, out: Path) -> None:
    from sparsity.workflow import write_weights

    write_weights(network, dataset, settings["sparse"], out)


def sparse(network: str, dataset: str, layer: str, dense: Path, weights: Path, settings: dict, out: Path) -> None:
    from sparsity.workflow import evaluate_layer_files

    result = evaluate_layer_files(network, dataset, layer, dense, weights, settings)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(result, indent=1) + "\n")


def table(network: str, dataset: str, accelerator: str, results: Path, settings: dict, out: Path) -> None:
    from .layer_rows import accelerator_rows

    rows = accelerator_rows(network, dataset, accelerator, results, settings)
    with atomic_path(out) as tmp:
        rows.to_csv(tmp, index=False)


def merge(inputs: list[Path], layers_out: Path, res_out: Path) -> None:
    from analysis.tables import res_table

    layers = pd.concat([pd.read_csv(p) for p in inputs], ignore_index=True)
    with atomic_path(layers_out) as tmp:
        layers.to_csv(tmp, index=False)
    with atomic_path(res_out) as tmp:
        res_table(layers).to_csv(tmp, index=False)


def summary(inputs: list[Path], out: Path) -> None:
    from analysis.summary import summarize

    layers = pd.concat([pd.read_csv(p) for p in inputs], ignore_index=True)
    with atomic_path(out) as tmp:
        summarize(layers).to_csv(tmp, index=False)


def plots(summary: Path, layers: list[Path], outdir: Path) -> None:
    from analysis.plots import phases_plot, totals_plot

    table = pd.concat([pd.read_csv(p) for p in layers], ignore_index=True)
    written = totals_plot(table, outdir / "totals") + phases_plot(table, outdir / "archon_phases")
    write_text(outdir / "done.txt", "\n".join(str(p) for p in written) + "\n")
