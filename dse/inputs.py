"""What a search space needs from the workflow: its network, the accelerator's runs (content-keyed, as the workflow
plans them: `<results>/runs/<key>/stats.json`) and rows, and the evaluator.

For `hybrid` the runs and rows cover both forms of every block (the designs `fused_blocks: all` and `none`); every
other accelerator evaluates its own variant as the workflow does. `planned_runs` is what the Snakemake search rule
declares as inputs; `fuseloop search` maps the missing ones itself (`ensure_runs`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import accelerators
from engines.stats import LayerStats
from workflows.config import subset

from .model import DesignInputs
from .space import DIGITS, Space


def gene_blocks(space: Space, network: Any) -> list[int]:
    """Blocks with a fusion gene (hybrid)."""
    indices = [b.index for b in network.blocks]
    if space.fusion_blocks == "all":
        return indices
    if space.fusion_blocks == "none":
        return []
    missing = sorted(set(space.fusion_blocks) - set(indices))
    if missing:
        raise space.error(
            "fusion.blocks",
            f"block(s) {missing} not in {space.network}/{space.dataset}'s fused variant (blocks 1..{len(indices)})",
        )
    return sorted(space.fusion_blocks)


def fusion_masks(space: Space, network: Any) -> list[tuple[bool, ...]]:
    """Two hybrid designs that together run every form the space can choose: the gene blocks fused, then unfused;
    the other blocks in their fixed (default) state."""
    genes = set(gene_blocks(space, network))
    return [
        tuple(True if b.index in genes else space.fusion_default for b in network.blocks),
        tuple(False if b.index in genes else space.fusion_default for b in network.blocks),
    ]


def _design_configs(space: Space, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The workflow configs whose runs the space reads (hybrid: the two designs of fusion_masks)."""
    if space.accelerator != "hybrid":
        return [config]
    from workflows.plan import network as load_network

    network = load_network(space.network, space.dataset, "hybrid")
    out = []
    for mask in fusion_masks(space, network):
        design = copy.deepcopy(config)
        fused = [b.index for b, on in zip(network.blocks, mask, strict=True) if on]
        design.setdefault("hybrid", {})["fused_blocks"] = fused
        out.append(design)
    return out


def planned_runs(space: Space, config: dict[str, Any]) -> dict[str, Any]:
    """{layer: workflows.plan.PlannedRun} of every run the space reads (none without an accelerator)."""
    from workflows import plan

    if space.accelerator is None:
        return {}
    out: dict[str, Any] = {}
    for design in _design_configs(space, config):
        for run in plan.runs(design, space.network, space.dataset, space.accelerator):
            out.setdefault(run.layer, run)
    return out


def ensure_runs(
    runs: Mapping[str, Any], results: Path, jobs: int = 1, cache: Path | None = None, log=print
) -> dict[str, LayerStats]:
    """{layer: stats} from `<results>/runs/<key>/stats.json`, mapping the runs that are missing (in `jobs`
    processes) exactly as the workflow's map_run step would (with derived energy tables: on the arch copy under
    `<results>/archs/`, written first when missing, as the arch_tables step would)."""
    from concurrent.futures import ProcessPoolExecutor

    from engines.runs import write_arch_with_tables
    from workflows.plan import ROOT, derived_arch

    results = Path(results)
    missing = {run.key: run.spec for run in runs.values() if not (results / "runs" / run.key / "stats.json").is_file()}
    if missing:
        log(f"mapping {len(missing)} missing runs into {results / 'runs'} ({jobs} process(es))")
        work = []
        for key, spec in missing.items():
            copy = derived_arch(spec)
            arch_dir = results / "archs" / copy if copy else None
            if arch_dir is not None and not arch_dir.is_dir():
                write_arch_with_tables(spec.arch_path(ROOT), arch_dir, "derived")
            work.append((spec, results / "runs" / key, cache, arch_dir))
        if jobs > 1:
            with ProcessPoolExecutor(jobs) as pool:
                list(pool.map(_execute, work))
        else:
            for item in work:
                _execute(item)
    return load_runs(runs, results)


def _execute(args: tuple[Any, Path, Path | None, Path | None]) -> None:
    from engines.runs import execute
    from workflows.plan import ROOT

    spec, out, cache, arch_dir = args
    execute(spec, out, cache=cache, root=ROOT, arch_dir=arch_dir)


def load_runs(runs: Mapping[str, Any], results: Path) -> dict[str, LayerStats]:
    return {layer: LayerStats.from_json(Path(results) / "runs" / run.key / "stats.json") for layer, run in runs.items()}


def design_inputs(space: Space, config: dict[str, Any], stats: Mapping[str, LayerStats]) -> DesignInputs:
    """The model's inputs: network (hybrid: both forms of every block), forms, rows for every form and runs."""
    import pandas as pd

    from accelerators.base import ROW_COLUMNS
    from workflows.plan import network as load_network

    if space.network == DIGITS:
        from costs.digits import quantized_digits

        return DesignInputs(quantized_digits(0)[0].network, {})
    if space.accelerator is None:
        from workloads import zoo

        return DesignInputs(zoo.load_network(space.network, space.dataset), {})
    plugin = accelerators.get(space.accelerator)
    network = load_network(space.network, space.dataset, space.accelerator)
    settings = subset(config, plugin.table_reads)
    if space.accelerator != "hybrid":
        result = plugin.table(network, stats, {}, settings)
        return DesignInputs(
            plugin.evaluated_network(network, settings), {}, pd.DataFrame(result.rows, columns=ROW_COLUMNS), stats
        )
    from accelerators.hybrid import UNFUSED_ROLES, Hybrid, superset_network

    assert isinstance(plugin, Hybrid)  # the registry's "hybrid"
    masks = fusion_masks(space, network)
    rows = []
    for mask in masks:
        rows += plugin.table_for(network, stats, settings, mask).rows
    frame = pd.DataFrame(rows, columns=ROW_COLUMNS).drop_duplicates("layer", ignore_index=True)
    # the network of the layers with options: both forms of a gene block, the fixed form of the others
    both = superset_network(network)
    names = set(frame["layer"])
    blocks = tuple(replace(b, layers=tuple(layer for layer in b.layers if layer.name in names)) for b in both.blocks)
    forms: dict[str, tuple[str, int | None]] = {}
    for row in frame.itertuples():
        if row.part == "body":
            forms[row.layer] = ("unfused" if row.role in UNFUSED_ROLES else "fused", int(row.block))
    return DesignInputs(
        replace(both, blocks=blocks), forms, frame, stats, blocks=tuple(b.index for b in network.blocks)
    )


def evaluator_for(space: Space):
    """The accuracy evaluator callable, or None (proxy)."""
    if space.evaluator == "proxy":
        return None
    from costs.evaluators import load_evaluator

    return load_evaluator(space.evaluator)
