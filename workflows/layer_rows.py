"""Per-layer rows (the layers.csv schema) of one accelerator, from its runs.

dense:  each layer's mapper run, x repeat (a grouped 1x1 is one group run G times);
        in the paper's depthwise form (C=1, M=channels) the under-counted input traffic is added back.
sparse: each layer's sparse re-costing of its dense run (sparsity package).
archon: per fused block the prediction layers, the fused main conv and the overhead (fusion package);
        head and tail layers as ordinary layers on the predictions arch.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import pandas as pd

from analysis.schema import LAYER_COLUMNS
from engines.stats import LayerStats

from . import plan

PJ_PER_UJ = 1e6


def paper_depthwise_input_fix_pJ(stats: LayerStats, channels: int) -> float:
    """Input energy the paper's C=1 depthwise form misses: every chip-level (single-instance) buffer's
    Inputs energy x (channels - 1). This is the reference's bottleneck formula (GLB + DRAM inputs),
    applied the same way to every depthwise layer (the reference used three variants, §9 item 12)."""
    shared = [lvl for lvl in stats.levels[1:] if lvl.instances == 1]
    return sum(lvl.tensors["Inputs"].energy_pJ for lvl in shared if "Inputs" in lvl.tensors) * (channels - 1)


DW_FIX_CHANNELS = ("layer", "mid")


def paper_depthwise_fix_channels(net, layer, rule: str = "layer") -> int:
    """Channels the paper-form depthwise input fix multiplies by (config `problem.depthwise_fix_channels`):
    `layer` = the layer's own channels; `mid` = for a bottleneck depthwise layer its block's expanded width, as
    the artifact's baseline script did (MIDD = bl_midd_ch for every network: the layer's channels in
    MobileNetV2/MnasNet, 4x them in the ShuffleNet-style baseline, reference-method.md §5.3, §9 item 10)."""
    if rule not in DW_FIX_CHANNELS:
        raise ValueError(f"problem.depthwise_fix_channels: {rule!r} is not one of {', '.join(DW_FIX_CHANNELS)}")
    if rule == "mid" and layer.part == "body" and layer.block is not None:
        return net.block(layer.block).mid_ch
    return layer.M


def _row(network, dataset, accelerator, engine, layer, role, phase, energy_pJ, cycles, macs, utilisation, part=None,
         block=None, name=None) -> dict:
    return {
        "network": network, "dataset": dataset, "accelerator": accelerator, "engine": engine,
        "part": part or layer.part, "block": block if block is not None else layer.block,
        "layer": name or layer.name, "role": role, "phase": phase,
        "energy_uJ": energy_pJ / PJ_PER_UJ, "cycles": cycles, "macs": macs, "utilisation": utilisation,
    }


def run_stats(results: Path, network: str, dataset: str, accelerator: str, layer: str) -> LayerStats:
    return LayerStats.from_json(results / network / dataset / accelerator / "runs" / layer / "stats.json")


def dense_layer_cost(layer, stats: LayerStats, depthwise_form: str,
                     fix_channels: int | None = None) -> tuple[float, int]:
    """(energy pJ, cycles) of a whole layer from its (one-group) run; `fix_channels` (default: the layer's) is the
    channel count of the paper-form depthwise input fix."""
    repeat = int(stats.meta.get("repeat", 1))
    energy = stats.total_energy_pJ
    if depthwise_form == "paper" and layer.kind == "depthwise":
        energy += paper_depthwise_input_fix_pJ(stats, fix_channels or layer.M)
    return energy * repeat, stats.cycles * repeat


def dense_rows(net, stats: Mapping[str, LayerStats], settings: dict) -> list[dict]:
    rows = []
    form = settings["problem"]["depthwise"]
    rule = settings["problem"].get("depthwise_fix_channels", "layer")
    for layer in net.layers():
        channels = paper_depthwise_fix_channels(net, layer, rule)
        energy, cycles = dense_layer_cost(layer, stats[layer.name], form, channels)
        rows.append(_row(net.name, net.dataset, "dense", settings["engine"], layer, layer.role, "layer", energy, cycles,
                         layer.macs, stats[layer.name].utilization))
    return rows


def sparse_rows(net, results: Mapping[str, dict], settings: dict) -> list[dict]:
    """`results`: each layer's SparseResult as a dict."""
    rows = []
    for layer in net.layers():
        result = results[layer.name]
        rows.append(_row(net.name, net.dataset, "sparse", settings["engine"], layer, layer.role, "layer",
                         result["energy_pJ"], result["cycles"], result["sparse_macs"], result["utilisation"]))
    return rows


def archon_rows(net, stats: Mapping[str, LayerStats], settings: dict) -> list[dict]:
    from fusion.workflow import archon_layer_rows

    return [_row(net.name, net.dataset, "archon", settings["engine"], item.layer, item.role, item.phase,
                 item.energy_pJ, item.cycles, item.macs, item.utilisation, name=item.name)
            for item in archon_layer_rows(net, stats, settings)]


def accelerator_rows(network: str, dataset: str, accelerator: str, results: Path, settings: dict) -> pd.DataFrame:
    """The rows of one accelerator from the workflow's result files under `results`."""
    results = Path(results)
    net = plan.network(network, dataset, accelerator)
    if accelerator == "sparse":
        inputs = {layer.name: json.loads((results / network / dataset / "sparse" / "runs" / layer.name / "sparse.json")
                                         .read_text()) for layer in net.layers()}
        rows = sparse_rows(net, inputs, settings)
    else:
        stats = {layer.name: run_stats(results, network, dataset, accelerator, layer.name) for layer in net.layers()}
        rows = (dense_rows if accelerator == "dense" else archon_rows)(net, stats, settings)
    return pd.DataFrame(rows, columns=LAYER_COLUMNS)
