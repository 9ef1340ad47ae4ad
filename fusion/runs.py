"""What the fusion model reads from one run's `LayerStats`: base energy, repeat, level groups, depthwise input fix.

Levels are found by role, not by name: the outermost level is DRAM; "chip" levels are the single-instance
storage levels (global buffer and DRAM); "pe" levels are the per-PE storage levels (more than one instance).
"""
from __future__ import annotations

from engines.stats import LayerStats, LevelStats
from workloads.layer import Layer
from workloads.problem import problems_for

from .params import FusionParams


class FusionError(ValueError):
    """Stats or a block that the fusion model cannot evaluate; the message names the layer and the field."""


def base_energy_pJ(stats: LayerStats, params: FusionParams) -> float:
    """The run's energy: full precision ('total'), or Timeloop's 2-decimal uJ summary line ('summary')."""
    if params.base_energy == "total":
        return stats.total_energy_pJ
    summary = stats.meta.get("energy_summary_uJ")
    if summary is None:  # not parsed from a stats.txt: the summary line is the total printed with %.2f
        summary = round(stats.total_energy_pJ * 1e-6, 2)
    return float(summary) * 1e6


def repeat(layer: Layer, params: FusionParams) -> int:
    """How many identical copies of the simulated problem make up `layer` (G for a grouped layer)."""
    return problems_for(layer, params.depthwise_form)[0].repeat


def outer(stats: LayerStats) -> LevelStats:
    return stats.levels[-1]


def storage(stats: LayerStats) -> list[LevelStats]:
    return stats.levels[1:]


def chip_levels(stats: LayerStats) -> list[LevelStats]:
    return [lvl for lvl in storage(stats) if lvl.instances == 1]


def pe_levels(stats: LayerStats) -> list[LevelStats]:
    return [lvl for lvl in storage(stats) if lvl.instances > 1]


def tensor_pJ(levels: list[LevelStats], tensor: str) -> float:
    return sum(lvl.tensors[tensor].energy_pJ for lvl in levels if tensor in lvl.tensors)


def select_levels(stats: LayerStats, spec: str | tuple[str, ...], layer: Layer) -> list[LevelStats]:
    """The levels named by a dw_fix_*_levels knob: 'chip', 'all', or level names."""
    if spec == "chip":
        return chip_levels(stats)
    if spec == "all":
        return storage(stats)
    names = [lvl.name for lvl in stats.levels]
    for name in spec:
        if name not in names:
            raise FusionError(f"layer {layer.name}: dw fix level {name!r} is not in the run (levels: {names[1:]})")
    return [lvl for lvl in storage(stats) if lvl.name in spec]


def needs_dw_fix(layer: Layer, params: FusionParams) -> bool:
    """True when the run is the paper's C=1 depthwise form, whose input traffic is under-counted."""
    return layer.kind == "depthwise" and params.depthwise_form == "paper"


def dw_input_fix(stats: LayerStats, layer: Layer, spec: str | tuple[str, ...],
                 params: FusionParams) -> dict[str, float]:
    """{level: pJ added}: Inputs energy x (channels - 1) at the selected levels (empty when no fix applies)."""
    if not needs_dw_fix(layer, params):
        return {}
    return {lvl.name: lvl.tensors["Inputs"].energy_pJ * (layer.M - 1)
            for lvl in select_levels(stats, spec, layer) if "Inputs" in lvl.tensors}


def outputs_partition(stats: LayerStats, layer: Layer) -> int:
    """Output elements the run writes to DRAM (its Outputs partition size there)."""
    out = outer(stats).tensors.get("Outputs")
    if out is None or out.partition_size <= 0:
        raise FusionError(f"layer {layer.name}: the run has no Outputs partition size at {outer(stats).name}")
    return out.partition_size
