"""ARCHON's fused main convolution (docs/method.md §6.2): the run's energy minus its DRAM weight traffic, and its
cycles.

The fused k x k convolution (in/G -> out) runs on arch/archon/main, whose weights stream from DRAM straight to
the MACs. Those sparse fused weights are charged in the overhead (fusion/overhead.py), so the run's outermost
level Weights energy is removed here. A grouped main run in the coupled form is one group x G.
"""
from __future__ import annotations

from dataclasses import dataclass

from engines.stats import LayerStats
from workloads.layer import Layer

from .params import FusionParams
from .runs import FusionError, base_energy_pJ, outer, repeat, tensor_pJ


@dataclass(frozen=True)
class MainCost:
    """Energy (pJ) and cycles of a block's fused main convolution."""

    energy_pJ: float
    cycles: int
    dram_weights_pJ: float  # removed from the run's energy (whole layer)


def main_cost(layer: Layer, stats: LayerStats, params: FusionParams) -> MainCost:
    if layer.role != "main":
        raise FusionError(f"layer {layer.name}: role {layer.role!r} is not the fused main convolution ('main')")
    copies = repeat(layer, params)
    dram_weights = tensor_pJ([outer(stats)], "Weights")
    energy = (base_energy_pJ(stats, params) - dram_weights) * copies
    return MainCost(energy, stats.cycles * copies, dram_weights * copies)
