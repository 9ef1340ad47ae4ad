"""Replay the paper artifact's recorded Timeloop runs through fuseloop's own post-processing.

Given the artifact's run directories (MobileNetV2/CIFAR-10: `baseline/b<k>/{decom,conv,comp}`,
`fusion/predictions/b<k>/{decom,conv}`, `fusion/main_computations/b<k>`, `head_and_tail/...`), this builds the
layers.csv rows of the dense, sparse and ARCHON accelerators exactly as the workflow does, but from the
recorded stats instead of fresh mapper runs. With the `paper` presets the resulting res table can be compared
with the artifact's `result.csv` (`analysis.validate`): it checks the whole chain from per-layer stats to
head/body/tail tables.

Where fuseloop's zoo fixes a network defect (MobileNetV2 block 12 at 16x16), the replayed layer takes the shape of
the recorded run, so the numbers describe what the artifact simulated.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

import pandas as pd

from analysis.schema import LAYER_COLUMNS
from engines.parsers import parse_run
from engines.stats import LayerStats
from workloads.network import Network
from workloads.problem import parse_problem

BASELINE_DIRS = {"head": "head_and_tail/baseline/head/baseline", "tail": "head_and_tail/baseline/tail/baseline"}
FUSED_DIRS = {"head": "head_and_tail/fused/fus_head/fusion", "tail": "head_and_tail/fused/fus_tail/fusion"}
FUSED_ROLES = {"pred_decom": "fusion/predictions/b{k}/decom", "pred_conv": "fusion/predictions/b{k}/conv",
               "main": "fusion/main_computations/b{k}"}


def run_dir(root: Path, variant: str, layer) -> Path:
    """The artifact's run directory of a zoo layer."""
    if layer.part != "body":
        return root / (BASELINE_DIRS if variant == "baseline" else FUSED_DIRS)[layer.part] / layer.name.split(".", 1)[1]
    if variant == "baseline":
        return root / "baseline" / f"b{layer.block}" / layer.role
    return root / FUSED_ROLES[layer.role].format(k=layer.block)


def _as_recorded(layer, problem_file: Path):
    """The layer with the spatial size and stride of the recorded problem (where a zoo fix changed them)."""
    instance = parse_problem(problem_file).instance
    return replace(layer, P=instance["P"], Q=instance["Q"], stride=instance.get("Wstride", layer.stride))


def recorded_network(root: Path, net: Network,
                     read_run: Callable[[Path], LayerStats] = parse_run) -> tuple[Network, dict[str, LayerStats]]:
    """(network with layers shaped as recorded, {layer name: recorded LayerStats with mapping}); `read_run` reads a
    run directory (by default Timeloop's stats.txt and map.txt)."""
    stats, blocks = {}, []
    head = tuple(_as_recorded(l, run_dir(root, net.variant, l) / "prob" / "prob.yaml") for l in net.head)
    tail = tuple(_as_recorded(l, run_dir(root, net.variant, l) / "prob" / "prob.yaml") for l in net.tail)
    for block in net.blocks:
        layers = tuple(_as_recorded(l, run_dir(root, net.variant, l) / "prob" / "prob.yaml") for l in block.layers)
        blocks.append(replace(block, layers=layers))
    recorded = replace(net, head=head, blocks=tuple(blocks), tail=tail)
    for layer in recorded.layers():
        stats[layer.name] = read_run(run_dir(root, net.variant, layer))
    return recorded, stats


def replay(runs_root: str | Path, network: str, dataset: str, settings: dict, seed: int = 0,
           read_run: Callable[[Path], LayerStats] = parse_run) -> pd.DataFrame:
    """layers.csv rows of dense, sparse and ARCHON from the recorded runs under `runs_root`.

    `settings` is a workflow config (`problem.depthwise` should be "paper": the runs are in the paper's form).
    The sparse rows use generated pruned weights (the artifact's pruned models are not available), so sparse
    cycles depend on `seed`; the paper preset's sparse energy does not depend on the weights.
    """
    import tempfile

    import accelerators
    from workloads import zoo

    root = Path(runs_root)
    base, base_stats = recorded_network(root, zoo.load_network(network, dataset, "baseline"), read_run)
    fused, fused_stats = recorded_network(root, zoo.load_network(network, dataset, "fused"), read_run)
    settings = {**settings, "sparse": {**settings["sparse"], "seed": seed, "models": {}}}
    rows = accelerators.get("dense").table(base, base_stats, {}, settings).rows
    sparse = accelerators.get("sparse")
    with tempfile.TemporaryDirectory() as tmp:
        artifacts = {name: Path(tmp) / name for name in sparse.artifacts}
        for name, path in artifacts.items():
            sparse.prepare(name, base, settings, path)
        rows += sparse.table(base, base_stats, artifacts, settings).rows
    rows += accelerators.get("archon").table(fused, fused_stats, {}, settings).rows
    return pd.DataFrame(rows, columns=LAYER_COLUMNS)
