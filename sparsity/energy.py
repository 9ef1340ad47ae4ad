"""Sparse energy of one problem copy, from the dense run's per-level / per-tensor energies (pJ).

The sparse Eyeriss skips every MAC whose weight is zero and stores only the kept weights, each with an index.
With d the weight density (kept fraction: measured from the model, or the fixed `density` parameter), w = word_bits
and b = index_bits, every (level, tensor) energy E of the dense run becomes E' and

    E_sparse = E_base - sum over (level, tensor) of (E - E')  -  E_MAC (1 - d)(1 - g)

    E_base   `base_energy`: total = the run's full-precision total (Timeloop's `Total topology energy`),
             summary = Timeloop's 2-decimal uJ summary line (stats meta `energy_summary_uJ`, else the total
             rounded the same way); plus any dense energy outside the stats (the workflow's paper-form depthwise
             input fix), which is never discounted.
    Weights  at `weight_levels` (all = every level that keeps weights):
               index_model kept:    E' = E d (w + b) / w          every kept weight moves with its index
               index_model pruned:  E' = E (1 - (1 - d)(1 - b/w)) the paper: a pruned weight still costs b/w word
    operands `operand_tensors` (Inputs / Outputs) at `operand_levels` (pe = the PE level and every level inside
             a PE): accesses made on behalf of a skipped MAC disappear,
               E' = E (1 - (1 - d) f),  f = 1 (operand_accesses all, the paper) or the MAC-driven share of the
               tensor's accesses (operand_accesses mac): Inputs reads / (reads + updates + fills), Outputs
               (reads + updates) / (reads + updates + fills). Fills from the parent level are unchanged. (The split by
               access counts is exact for Timeloop 2021 and the embedded engine, which cost every access of a buffer
               at one energy per access.)
    MAC      g = `mac_gating_ratio`, the energy of a skipped (gated) MAC relative to a performed one (the default
             reads mac_gated / mac_random = 0.103 / 2.2 from the arch's ERT; the paper: 1, no MAC saving).
    Everything else (GLB and DRAM inputs / outputs, ...) is unchanged.

Costs of finding the non-zero weights (`omitted_costs`; 0 in the optimistic bound and the paper preset, charged by
the conservative bound, docs/model.md), added to the sparse energy:
    index_decode   performed (non-zero) MACs x index_decode_pJ: each kept weight's index becomes an input address
    pointers       sum over the weight levels of E_Weights x pointer_bits / (w x M): one compressed-column pointer per
                   M weights (M of the problem copy), moving with the weights
    idle_pe        (cycles x PEs - performed MACs) x idle_pe_pJ: the PE-cycles a PE waits for the slowest PE of its
                   pass (cycles: the imbalance analysis', before any bandwidth slowdown)
A random-access penalty for the ifmap spad is not needed: Timeloop's rule (and the embedded model) already charges
every access at the largest action energy, i.e. a changing address and changing data.

Paper preset (docs/method.md §5.3): d = 0.09 (its hard-coded s = 0.91), b = 10, index_model pruned, weights
at DRAM and weights_spad, ifmap_spad Inputs with f = 1, g = 1, base = summary:
    E_sp = E - s E_DW (1 - 10/16) - s E_SW (1 - 10/16) - s E_II.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accelerators import dense
from engines.stats import LayerStats, TensorStats

from .params import SparseParams


class SparseEnergyError(ValueError):
    """Stats the energy model cannot use; the message names the level and tensor."""


@dataclass(frozen=True)
class SparseEnergy:
    """One problem copy: dense base and sparse energy (pJ), and the saving per 'level/tensor' (negative = cost)."""

    base_pJ: float
    energy_pJ: float
    density: float
    savings_pJ: dict[str, float] = field(default_factory=dict)


def base_energy_pJ(stats: LayerStats, params: SparseParams) -> float:
    return dense.base_energy_pJ(stats, params.base_energy)


def pe_levels(stats: LayerStats, pe_level: str) -> list[str]:
    """The PE level and every level inside it (stats levels are innermost first)."""
    names = [lvl.name for lvl in stats.levels[1:]]
    if pe_level not in names:
        raise SparseEnergyError(f"PE level {pe_level!r} is not a level of the stats (levels: {', '.join(names)})")
    return names[: names.index(pe_level) + 1]


def weight_factor(d: float, params: SparseParams) -> float:
    w, b = params.word_bits, params.index_bits
    if params.index_model == "kept":
        return d * (w + b) / w
    return 1.0 - (1.0 - d) * (1.0 - b / w)


def operand_share(tensor: str, stats: TensorStats, params: SparseParams, where: str) -> float:
    if params.operand_accesses == "all":
        return 1.0
    total = stats.reads + stats.updates + stats.fills
    if total == 0:
        if stats.energy_pJ:
            raise SparseEnergyError(f"{where}: energy without access counts; use operand_accesses: all")
        return 0.0
    driven = stats.reads if tensor == "Inputs" else stats.reads + stats.updates
    return driven / total


def sparse_energy(
    stats: LayerStats, d: float, params: SparseParams, pe_level: str, extra_dense_pJ: float = 0.0
) -> SparseEnergy:
    """Sparse energy of one problem copy with weight density `d` (see the module docstring)."""
    inside = set(pe_levels(stats, pe_level))
    operand_levels = inside if params.operand_levels == "pe" else set(params.operand_levels)
    savings: dict[str, float] = {}
    for lvl in stats.levels[1:]:
        for tensor, tstats in lvl.tensors.items():
            where = f"{lvl.name}/{tensor}"
            if tensor == "Weights" and (params.weight_levels == "all" or lvl.name in params.weight_levels):
                savings[where] = tstats.energy_pJ * (1.0 - weight_factor(d, params))
            elif tensor in params.operand_tensors and lvl.name in operand_levels:
                savings[where] = tstats.energy_pJ * (1.0 - d) * operand_share(tensor, tstats, params, where)
    mac = stats.levels[0]
    savings[f"{mac.name}/MAC"] = mac.arithmetic_energy_pJ * (1.0 - d) * (1.0 - params.mac_gating_ratio)
    base = base_energy_pJ(stats, params) + extra_dense_pJ
    return SparseEnergy(base, base - sum(savings.values()), d, savings)


def weight_levels(stats: LayerStats, params: SparseParams) -> list[str]:
    """Levels whose Weights energy the model scales (weight_levels: all, or the named ones that keep weights)."""
    return [
        lvl.name
        for lvl in stats.levels[1:]
        if "Weights" in lvl.tensors and (params.weight_levels == "all" or lvl.name in params.weight_levels)
    ]


def omitted_costs(
    stats: LayerStats, params: SparseParams, performed_macs: int, idle_pe_cycles: int, weights_per_pointer: int
) -> dict[str, float]:
    """The costs of finding the non-zero weights (module docstring), pJ, for the MACs and idle PE-cycles given."""
    pointer_share = params.pointer_bits / (params.word_bits * weights_per_pointer) if weights_per_pointer else 0.0
    pointers = sum(stats.level(name).tensors["Weights"].energy_pJ for name in weight_levels(stats, params))
    return {
        "index_decode": performed_macs * params.index_decode_pJ,
        "pointers": pointers * pointer_share,
        "idle_pe": idle_pe_cycles * params.idle_pe_pJ,
    }
