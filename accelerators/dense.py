"""dense: the Eyeriss-like row-stationary accelerator (arch/eyeriss), and the cost rules every accelerator shares.

Shared rules (the sparse and ARCHON models reuse them):
  repeat               a grouped layer is one group's problem repeated G times (workloads.problem.problems_for);
  depthwise forms      `coupled` (channels coupled, exact) or the paper's `paper` (C=1, M=channels): its input
                       traffic is under-counted by the channel count, and `depthwise_input_fix` adds it back
                       (docs/method.md, depthwise layers);
  base energy          a run's energy: its full-precision total, or Timeloop's 2-decimal uJ summary line (the
                       paper artifact's post-processing read that one).
Rows: each layer's run energy (+ the depthwise fix) and cycles, x repeat.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from engines.stats import LayerStats, LevelStats
from specs.constraints import render_constraints
from workloads.layer import Layer
from workloads.network import Network
from workloads.problem import problems_for

from .base import REPO_ROOT, Accelerator, AcceleratorError, LayerRun, ResColumns, TableResult, row, setting

BASE_ENERGY_MODES = ("total", "summary")
FIX_CHANNELS = ("layer", "mid")
LEVEL_KEYWORDS = ("chip", "all")
SUMMARY_DECIMALS = 2  # Timeloop prints the summary energy in uJ with 2 decimals
EYERISS = REPO_ROOT / "arch" / "eyeriss"


# ---- shared cost rules ------------------------------------------------------------------------------------

def base_energy_pJ(stats: LayerStats, mode: str = "total") -> float:
    """The run's energy: 'total' (full precision) or 'summary' (Timeloop's 2-decimal uJ summary line; when the
    stats were not parsed from a stats.txt, the total rounded the same way)."""
    if mode == "total":
        return stats.total_energy_pJ
    if mode != "summary":
        raise AcceleratorError(f"base energy mode {mode!r} is not one of {', '.join(BASE_ENERGY_MODES)}")
    summary = stats.meta.get("energy_summary_uJ")
    if summary is None:
        summary = round(stats.total_energy_pJ * 1e-6, SUMMARY_DECIMALS)
    return float(summary) * 1e6


def repeat(layer: Layer, depthwise_form: str) -> int:
    """How many identical copies of the simulated problem make up `layer` (G for a grouped layer)."""
    return problems_for(layer, depthwise_form)[0].repeat


def is_paper_depthwise(layer: Layer, depthwise_form: str) -> bool:
    """True when the layer's run is the paper's C=1 depthwise form, whose input traffic is under-counted."""
    return layer.kind == "depthwise" and depthwise_form == "paper"


def chip_levels(stats: LayerStats) -> list[LevelStats]:
    """Single-instance storage levels (global buffer and DRAM)."""
    return [lvl for lvl in stats.levels[1:] if lvl.instances == 1]


def select_levels(stats: LayerStats, spec: str | tuple[str, ...], layer: Layer) -> list[LevelStats]:
    """Levels named by a level spec: 'chip', 'all' (every storage level) or level names."""
    if spec == "chip":
        return chip_levels(stats)
    if spec == "all":
        return stats.levels[1:]
    names = [lvl.name for lvl in stats.levels]
    for name in spec:
        if name not in names:
            raise AcceleratorError(f"layer {layer.name}: depthwise fix level {name!r} is not in the run "
                                   f"(levels: {names[1:]})")
    return [lvl for lvl in stats.levels[1:] if lvl.name in spec]


def fix_channels(network: Network, layer: Layer, rule: str = "layer") -> int:
    """Channels the paper-form depthwise input fix multiplies by (config `problem.depthwise_fix_channels`):
    `layer` = the layer's own channels; `mid` = for a bottleneck depthwise layer its block's expanded width, as the
    artifact's baseline script did (the layer's channels in MobileNetV2/MnasNet, 4x them in its ShuffleNet-style
    baselines; docs/method.md §5.3, §9 item 10)."""
    if rule not in FIX_CHANNELS:
        raise AcceleratorError(f"problem.depthwise_fix_channels: {rule!r} is not one of {', '.join(FIX_CHANNELS)}")
    if rule == "mid" and layer.part == "body" and layer.block is not None:
        return network.block(layer.block).mid_ch
    return layer.M


def depthwise_input_fix(stats: LayerStats, layer: Layer, depthwise_form: str,
                        levels: str | tuple[str, ...] = "chip", channels: int | None = None) -> dict[str, float]:
    """{level: pJ added} for a paper-form depthwise run: Inputs energy x (channels - 1) at the selected levels
    (every channel reads its own input channel; the C=1 problem counted one); `channels` defaults to the layer's.
    Empty for any other run."""
    if not is_paper_depthwise(layer, depthwise_form):
        return {}
    return {lvl.name: lvl.tensors["Inputs"].energy_pJ * ((channels or layer.M) - 1)
            for lvl in select_levels(stats, levels, layer) if "Inputs" in lvl.tensors}


def layer_cost(layer: Layer, stats: LayerStats, depthwise_form: str, base_energy: str = "total",
               fix_levels: str | tuple[str, ...] = "chip", channels: int | None = None) -> tuple[float, int]:
    """(energy pJ, cycles) of a whole layer from its (one-copy) run."""
    copies = repeat(layer, depthwise_form)
    fix = sum(depthwise_input_fix(stats, layer, depthwise_form, fix_levels, channels).values())
    return (base_energy_pJ(stats, base_energy) + fix) * copies, stats.cycles * copies


def mapper_kind(layer: Layer) -> str:
    """`depthwise` for k x k layers (the artifact's "dw mapper"), `pointwise` for 1x1 and FC."""
    return "depthwise" if layer.R * layer.S > 1 else "pointwise"


def layer_runs(network: Network, settings: Mapping[str, Any], arch: Path, kind: str | None = None,
               template: str = "layer.yaml.j2") -> list[LayerRun]:
    """Every layer (one copy of a grouped layer) on `arch` with its one parameter-free constraint template
    (`<arch>/constraints/<template>`); mapper kind `kind`, or depthwise / pointwise by kernel size when None."""
    form = setting(settings, "problem.depthwise")
    path = arch / "constraints" / template
    runs = []
    for layer in network.layers():
        (problem,) = problems_for(layer, form)
        runs.append(LayerRun(layer.name, layer, problem, arch, render_constraints(path, problem.dimensions),
                             kind or mapper_kind(layer)))
    return runs


def layer_rows(accelerator: str, network: Network, stats: Mapping[str, LayerStats],
               settings: Mapping[str, Any]) -> TableResult:
    """One row per layer: its run's energy (+ the paper-form depthwise fix) and cycles, x repeat."""
    form, engine = setting(settings, "problem.depthwise"), setting(settings, "engine")
    rule = setting(settings, "problem").get("depthwise_fix_channels", "layer")
    rows, details = [], {}
    for layer in network.layers():
        run, channels = stats[layer.name], fix_channels(network, layer, rule)
        energy, cycles = layer_cost(layer, run, form, channels=channels)
        rows.append(row(network, accelerator, engine, layer, layer.role, "layer", energy, cycles, layer.macs,
                        run.utilization))
        details[layer.name] = {"repeat": repeat(layer, form), "run_energy_pJ": run.total_energy_pJ,
                               "depthwise_fix_pJ": sum(depthwise_input_fix(run, layer, form, channels=channels).values())}
    return TableResult(rows, details)


# ---- the plug-in ------------------------------------------------------------------------------------------

class Dense(Accelerator):
    name = "dense"
    description = "Eyeriss-like row-stationary accelerator (72 PEs, 108 KiB global buffer)"
    variant = "baseline"
    arch_dirs = ("arch/eyeriss",)
    mapper_kinds = {"pointwise": {"timeout": 50000, "victory_condition": 1000},
                    "depthwise": {"timeout": 10000, "victory_condition": 300}}
    columns = ResColumns(
        energy=("PW1/L1_e", "DW_e", "PW2_e"), cycles=("PW1/L1_c", "DW_c", "PW2_c"),
        body={"decom": ("PW1/L1_e", "PW1/L1_c"), "conv": ("DW_e", "DW_c"), "comp": ("PW2_e", "PW2_c"),
              "se_reduce": ("SE_e", "SE_c"), "se_expand": ("SE_e", "SE_c")},
        edge=("PW1/L1_e", "PW1/L1_c"), extra_energy=("SE_e",), extra_cycles=("SE_c",))

    def runs(self, network: Network, settings: dict[str, Any]) -> list[LayerRun]:
        return layer_runs(network, settings, EYERISS)

    def table(self, network: Network, stats: Mapping[str, LayerStats], artifacts: Mapping[str, Path],
              settings: dict[str, Any]) -> TableResult:
        return layer_rows(self.name, network, stats, settings)
