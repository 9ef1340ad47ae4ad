"""What the workflow calls (workflows/layer_rows.py): the ARCHON rows of a fused network from its runs.

`settings` is the workflow config: `settings["archon"]` = {preset, overrides}; `settings["problem"]["depthwise"]`
is how the runs were expressed and sets the depthwise_form knob (a fact about the runs, not a model choice).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

from engines.stats import LayerStats
from workloads.layer import Layer
from workloads.network import Network

from .block import evaluate_blocks, evaluate_edge_layer
from .params import FusionParams, load_params


@dataclass(frozen=True)
class ArchonRow:
    """One layers.csv row: a head/tail layer, a prediction layer, a main conv or a block's overhead."""

    layer: Layer
    name: str
    role: str
    phase: str  # layer | prediction | main | overhead
    energy_pJ: float
    cycles: int
    macs: int
    utilisation: float


def params_for(net: Network, settings: dict) -> FusionParams:
    archon = settings.get("archon") or {}
    params = load_params(archon.get("preset", "default"), net.name, net.dataset, archon.get("overrides"))
    form = (settings.get("problem") or {}).get("depthwise")
    return params.with_(depthwise_form=form) if form else params


def archon_layer_rows(net: Network, stats: Mapping[str, LayerStats], settings: dict) -> list[ArchonRow]:
    """Rows in execution order: head layers, per block (predictions, main, overhead), tail layers."""
    params = params_for(net, settings)
    rows = [_edge_row(layer, stats[layer.name], params) for layer in net.head]
    for block, result in zip(net.blocks, evaluate_blocks(net.blocks, stats, params)):
        decom, second, main = block.layer("pred_decom"), block.layer(result.second_role), block.layer("main")
        main_stats = stats.get(f"b{result.main_from}.main") or stats[main.name]
        rows += [
            ArchonRow(decom, decom.name, decom.role, "prediction", result.pred_decom_e, result.pred_decom_c,
                      decom.macs, stats[decom.name].utilization),
            ArchonRow(second, second.name, second.role, "prediction", result.pred_conv_e, result.pred_conv_c,
                      second.macs, stats[second.name].utilization),
            ArchonRow(main, main.name, "main", "main", result.main_e, result.main_c, main.macs, main_stats.utilization),
            ArchonRow(main, f"b{block.index}.overhead", "overhead", "overhead", result.overhead_e, 0, 0, math.nan),
        ]
    rows += [_edge_row(layer, stats[layer.name], params) for layer in net.tail]
    return rows


def _edge_row(layer: Layer, stats: LayerStats, params: FusionParams) -> ArchonRow:
    result = evaluate_edge_layer(layer, stats, params)
    return ArchonRow(layer, layer.name, layer.role, "layer", result.energy_pJ, result.cycles, layer.macs,
                     stats.utilization)
