"""What the fusion model reads from one run's `LayerStats`, with the cost rules the dense accelerator owns
(accelerators.dense: base energy, repeat, the paper-form depthwise input fix) applied with the fusion knobs.

Levels are found by role, not by name: the outermost level is DRAM; "chip" levels are the single-instance storage
levels (global buffer and DRAM); "pe" levels are the per-PE storage levels (more than one instance).
"""

from __future__ import annotations

from accelerators import dense
from engines.stats import LayerStats, LevelStats
from workloads.layer import Layer

from .params import REPO_ROOT, FusionParams

chip_levels = dense.chip_levels


class FusionError(ValueError):
    """Stats or a block that the fusion model cannot evaluate; the message names the layer and the field."""


def base_energy_pJ(stats: LayerStats, params: FusionParams) -> float:
    return dense.base_energy_pJ(stats, params.base_energy)


def repeat(layer: Layer, params: FusionParams) -> int:
    return dense.repeat(layer, params.depthwise_form)


def dw_input_fix(
    stats: LayerStats, layer: Layer, spec: str | tuple[str, ...], params: FusionParams
) -> dict[str, float]:
    """{level: pJ added} of a paper-form depthwise run at the levels of `spec` (empty otherwise), made as
    `dw_fix_check` says (a run whose stats do not name their arch: the prediction arch for a body layer, else
    arch/archon/predictions)."""
    arch = params.prediction_arch_dir if layer.part == "body" else REPO_ROOT / "arch" / "archon" / "predictions"
    try:
        return dense.depthwise_input_fix(
            stats, layer, params.depthwise_form, spec, check=params.dw_fix_check, arch=arch
        )
    except ValueError as exc:
        raise FusionError(str(exc)) from None


def outer(stats: LayerStats) -> LevelStats:
    return stats.levels[-1]


def storage(stats: LayerStats) -> list[LevelStats]:
    return stats.levels[1:]


def pe_levels(stats: LayerStats) -> list[LevelStats]:
    return [lvl for lvl in storage(stats) if lvl.instances > 1]


def tensor_pJ(levels: list[LevelStats], tensor: str) -> float:
    return sum(lvl.tensors[tensor].energy_pJ for lvl in levels if tensor in lvl.tensors)


def outputs_partition(stats: LayerStats, layer: Layer) -> int:
    """Output elements the run writes to DRAM (its Outputs partition size there)."""
    out = outer(stats).tensors.get("Outputs")
    if out is None or out.partition_size <= 0:
        raise FusionError(f"layer {layer.name}: the run has no Outputs partition size at {outer(stats).name}")
    return out.partition_size
