"""dense: the Eyeriss-like row-stationary accelerator (arch/eyeriss), and the cost rules every accelerator shares.

Shared rules (the sparse and ARCHON models reuse them):
  repeat               a grouped layer is one group's problem repeated G times (workloads.problem.problems_for);
  depthwise forms      `coupled` (channels coupled, exact) or the paper's `paper` (C=1, M=channels): its input
                       traffic is under-counted by the channel count, and `depthwise_input_fix` adds it back
                       (docs/method.md §3.1, §9 item 12): the artifact's closed form (Inputs energy x (channels
                       - 1)) where its precondition holds, else the exact fix from the run's mapping
                       (`coupled_input_fix`; config problem.depthwise_fix, docs/model.md);
  base energy          a run's energy: its full-precision total, or Timeloop's 2-decimal uJ summary line (the
                       paper artifact's post-processing read that one).
Rows: each layer's run energy (+ the depthwise fix) and cycles, x repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import ceil
from pathlib import Path
from typing import Any

from engines.stats import LayerStats, LevelStats, TensorStats
from specs.constraints import render_constraints
from workloads.layer import Layer
from workloads.network import Network
from workloads.problem import problems_for

from .base import REPO_ROOT, Accelerator, AcceleratorError, LayerRun, ResColumns, TableResult, row, setting

BASE_ENERGY_MODES = ("total", "summary")
FIX_CHANNELS = ("layer", "mid")
FIX_CHECKS = ("checked", "artifact")
LEVEL_KEYWORDS = ("chip", "all")
SUMMARY_DECIMALS = 2  # Timeloop prints the summary energy in uJ with 2 decimals
EYERISS = REPO_ROOT / "arch" / "eyeriss"
# Ties among equally good dense mappings go to the one whose PEs share pruned work most evenly: the sparse
# accelerator re-costs these runs and its cycles depend on the choice (engines/embedded/tiebreak.py).
TIE_BREAK = "weight-balance"


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
            raise AcceleratorError(
                f"layer {layer.name}: depthwise fix level {name!r} is not in the run (levels: {names[1:]})"
            )
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


def depthwise_input_fix(
    stats: LayerStats,
    layer: Layer,
    depthwise_form: str,
    levels: str | tuple[str, ...] = "chip",
    channels: int | None = None,
    check: str = "artifact",
    arch: Path | None = None,
) -> dict[str, float]:
    """{level: pJ added} for a paper-form depthwise run (empty for any other run). The C=1 problem counted one
    input channel; every channel reads its own.

    check 'artifact': the closed form, Inputs energy x (channels - 1) at the selected levels, whatever the mapping
    (`channels` defaults to the layer's). It is exact only when the run reads each input word once at those levels:
    a C=1 mapping with output-channel loops above a level re-reads the one channel there, and the closed form turns
    each re-read into reads of distinct channels (docs/fidelity.md).
    check 'checked': the closed form where that precondition holds at every selected level (Inputs reads == the
    channel's input words, the outermost level's Inputs partition size); otherwise the exact fix from the run's
    own loop nest re-evaluated on the channel-coupled problem (`coupled_input_fix`, on the run's arch: its
    stats meta `arch`, else `arch`), or an error naming the layer and the levels when that is impossible."""
    if not is_paper_depthwise(layer, depthwise_form):
        return {}
    if check not in FIX_CHECKS:
        raise AcceleratorError(
            f"layer {layer.name}: depthwise fix check {check!r} is not one of {', '.join(FIX_CHECKS)}"
        )
    selected = [lvl for lvl in select_levels(stats, levels, layer) if "Inputs" in lvl.tensors]
    count = channels or layer.M
    closed = {lvl.name: lvl.tensors["Inputs"].energy_pJ * (count - 1) for lvl in selected}
    if check == "artifact":
        return closed
    if count != layer.M:
        raise AcceleratorError(
            f"layer {layer.name}: a checked depthwise fix counts the layer's {layer.M} channels, "
            f"not {count} (depthwise_fix_channels: mid is the artifact's; use depthwise_fix: "
            "artifact)"
        )
    words = unique_input_words(stats, layer)
    rereads = {lvl.name: lvl.tensors["Inputs"].reads for lvl in selected if lvl.tensors["Inputs"].reads != words}
    if not rereads:
        return closed
    source = stats.meta.get("arch")
    return coupled_input_fix(stats, layer, selected, REPO_ROOT / source if source else arch, rereads, words)


def unique_input_words(stats: LayerStats, layer: Layer) -> int:
    """Input words of the one channel a paper-form depthwise run reads (its outermost level's partition)."""
    outer = stats.levels[-1].tensors.get("Inputs")
    if outer is None or outer.partition_size <= 0:
        raise AcceleratorError(f"layer {layer.name}: the run has no Inputs partition size at {stats.levels[-1].name}")
    return outer.partition_size


def coupled_input_fix(
    stats: LayerStats, layer: Layer, levels: list[LevelStats], arch: Path | None, rereads: dict[str, int], words: int
) -> dict[str, float]:
    """The exact paper-form depthwise fix: the run's loop nest analysed on the channel-coupled problem (the embedded
    model's nest analysis; its M loops then walk distinct channels), per level the coupled Inputs energy minus the
    run's, both priced at the run's own energy per access block at that level (no energy table needed). Tile
    capacities are not re-checked: the fix prices the traffic the loop nest implies at the scaled levels."""
    from engines.base import EngineError
    from engines.embedded.analysis import fast_analysis
    from engines.embedded.nest import build_nest
    from engines.embedded.problem import from_spec
    from specs.arch import load_arch

    where = f"layer {layer.name}: the paper-form depthwise input fix needs each input word read once, but " + ", ".join(
        f"{name} reads {reads} words for the channel's {words}" for name, reads in rereads.items()
    )
    if stats.mapping is None or arch is None:
        raise AcceleratorError(
            f"{where}; the exact fix needs the run's mapping and arch (use problem.depthwise: "
            "coupled, or depthwise_fix: artifact for the artifact's closed form)"
        )
    spec = load_arch(arch)
    (problem,) = problems_for(layer, "coupled")
    coupled = from_spec(problem)
    try:
        tiles = fast_analysis(coupled, build_nest(spec, coupled, stats.mapping)).tiles
    except (EngineError, ValueError) as exc:
        raise AcceleratorError(
            f"{where}; the run's mapping cannot be laid onto the channel-coupled problem ({exc}): "
            "use problem.depthwise: coupled (or depthwise_fix: artifact)"
        ) from None
    k = coupled.tensor_names.index("Inputs")
    fix = {}
    for lvl in levels:
        i = spec.storage_index(lvl.name)
        storage, tile, ours = spec.storage[i], tiles[i][k], lvl.tensors["Inputs"]
        theirs = TensorStats(0.0, reads=tile.content_accesses, fills=tile.fills, utilized_instances=tile.instances)
        blocks = _access_blocks(ours, storage.block_size, storage.instances, storage.cluster_size)
        per_block = ours.energy_pJ / blocks if blocks else 0.0
        fix[lvl.name] = (
            per_block * _access_blocks(theirs, storage.block_size, storage.instances, storage.cluster_size)
            - ours.energy_pJ
        )
    return fix


def _access_blocks(tensor: TensorStats, block_size: int, instances: int, cluster_size: int) -> float:
    """Vector accesses a tensor's energy is made of (Timeloop's rule, engines/embedded/model.py): per instance
    ceil(accesses / block size), shared within a cluster, times the utilized instances."""
    if tensor.utilized_instances <= 0:
        return 0.0
    clusters = instances // cluster_size
    share = tensor.utilized_instances / min(tensor.utilized_instances, clusters)
    return ceil((tensor.reads + tensor.updates + tensor.fills) / block_size) / share * tensor.utilized_instances


def layer_cost(
    layer: Layer, stats: LayerStats, depthwise_form: str, base_energy: str = "total", fix: float = 0.0
) -> tuple[float, int]:
    """(energy pJ, cycles) of a whole layer from its (one-copy) run and its depthwise fix (pJ per copy)."""
    copies = repeat(layer, depthwise_form)
    return (base_energy_pJ(stats, base_energy) + fix) * copies, stats.cycles * copies


def mapper_kind(layer: Layer) -> str:
    """`depthwise` for k x k layers (the artifact's "dw mapper"), `pointwise` for 1x1 and FC."""
    return "depthwise" if layer.R * layer.S > 1 else "pointwise"


def layer_runs(
    network: Network,
    settings: Mapping[str, Any],
    arch: Path,
    kind: str | None = None,
    template: str = "layer.yaml.j2",
    tie_break: str = "first",
) -> list[LayerRun]:
    """Every layer (one copy of a grouped layer) on `arch` with its one parameter-free constraint template
    (`<arch>/constraints/<template>`); mapper kind `kind`, or depthwise / pointwise by kernel size when None."""
    form = setting(settings, "problem.depthwise")
    path = arch / "constraints" / template
    runs = []
    for layer in network.layers():
        (problem,) = problems_for(layer, form)
        runs.append(
            LayerRun(
                layer.name,
                layer,
                problem,
                arch,
                render_constraints(path, problem.dimensions),
                kind or mapper_kind(layer),
                tie_break,
            )
        )
    return runs


def problem_fix(
    network: Network, layer: Layer, stats: LayerStats, settings: Mapping[str, Any], arch: Path = EYERISS
) -> dict[str, float]:
    """{level: pJ} of the paper-form depthwise fix of a dense/sparse layer run, as the config's `problem` section
    says (depthwise, depthwise_fix_channels, depthwise_fix; the latter two default to layer and checked)."""
    problem = setting(settings, "problem")
    channels = fix_channels(network, layer, problem.get("depthwise_fix_channels", "layer"))
    return depthwise_input_fix(
        stats,
        layer,
        setting(settings, "problem.depthwise"),
        channels=channels,
        check=problem.get("depthwise_fix", "checked"),
        arch=arch,
    )


def layer_rows(
    accelerator: str,
    network: Network,
    stats: Mapping[str, LayerStats],
    settings: Mapping[str, Any],
    arch: Path = EYERISS,
) -> TableResult:
    """One row per layer: its run's energy (+ the paper-form depthwise fix) and cycles, x repeat (`arch`: where
    the runs were mapped, for a run whose stats do not say)."""
    form, engine = setting(settings, "problem.depthwise"), setting(settings, "engine")
    rows, details = [], {}
    for layer in network.layers():
        run = stats[layer.name]
        fix = sum(problem_fix(network, layer, run, settings, arch).values())
        energy, cycles = layer_cost(layer, run, form, fix=fix)
        rows.append(
            row(network, accelerator, engine, layer, layer.role, "layer", energy, cycles, layer.macs, run.utilization)
        )
        details[layer.name] = {
            "repeat": repeat(layer, form),
            "run_energy_pJ": run.total_energy_pJ,
            "depthwise_fix_pJ": fix,
        }
    return TableResult(rows, details)


# ---- the plug-in ------------------------------------------------------------------------------------------


class Dense(Accelerator):
    name = "dense"
    description = "Eyeriss-like row-stationary accelerator (72 PEs, 108 KiB global buffer)"
    variant = "baseline"
    arch_dirs = ("arch/eyeriss",)
    mapper_kinds = {
        "pointwise": {"timeout": 50000, "victory_condition": 1000},
        "depthwise": {"timeout": 10000, "victory_condition": 300},
    }
    columns = ResColumns(
        energy=("PW1/L1_e", "DW_e", "PW2_e"),
        cycles=("PW1/L1_c", "DW_c", "PW2_c"),
        body={
            "decom": ("PW1/L1_e", "PW1/L1_c"),
            "conv": ("DW_e", "DW_c"),
            "comp": ("PW2_e", "PW2_c"),
            "se_reduce": ("SE_e", "SE_c"),
            "se_expand": ("SE_e", "SE_c"),
        },
        edge=("PW1/L1_e", "PW1/L1_c"),
        extra_energy=("SE_e",),
        extra_cycles=("SE_c",),
    )

    def runs(self, network: Network, settings: dict[str, Any]) -> list[LayerRun]:
        return layer_runs(network, settings, EYERISS, tie_break=TIE_BREAK)

    def table(
        self, network: Network, stats: Mapping[str, LayerStats], artifacts: Mapping[str, Path], settings: dict[str, Any]
    ) -> TableResult:
        return layer_rows(self.name, network, stats, settings)
