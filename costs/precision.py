"""Per-layer precision in the energy model, fast mode (docs/cost-models.md §1): rescale a layer run's recorded
per-level, per-tensor access energies and its MAC energy to the layer's bit widths.

Storage: an access of a w-bit word costs w / w_ref of the recorded access, w_ref the level's `word-bits` in the
arch the run used (16 in fuseloop's archs). Which width a tensor has at a storage level:
  Weights -> weight_bits, Inputs -> input_bits,
  Outputs -> psum_bits at every level at or below the outermost level holding a reduction loop (C, R or S with
             bound > 1, temporal or spatial) of the run's mapping: partial sums live and are accumulated there;
             output_bits above it (the reduction is complete; outputs are requantised). Without a mapping,
             psum_bits everywhere but the outermost level (DRAM).
MAC: E_mac = E_ref x [f (b_mul / b_ref)^2 r + (1 - f) (b_add / b_ref)], b_mul = max(weight, input) bits,
b_add = psum_bits, b_ref the arch's MAC datawidth, r the multiplier's relative power (an approximate 8x8 circuit
replaces the exact 8x8 multiplier: its b_mul is 8), f the multiplier's share of a b_ref-bit MAC (PrecisionModel).
Network (wire) energy, if the run has any, is kept as recorded.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

from engines.stats import LayerStats

from .choices import APPROX_OPERAND_BITS, LayerChoice

REDUCTION_DIMS = ("C", "R", "S")

# Horowitz, "Computing's energy problem", ISSCC 2014 (45 nm): 8-bit integer add 0.03 pJ, multiply 0.2 pJ.
HOROWITZ_ADD8_PJ = 0.03
HOROWITZ_MULT8_PJ = 0.2


@dataclass(frozen=True)
class PrecisionModel:
    """reference_bits: widths the recorded energies are for (fuseloop's archs: 16); mult_share: the multiplier's
    share of a reference MAC. Default: Horowitz's 8-bit figures scaled to 16 bits by the §1 rules,
    0.2 x 4 / (0.2 x 4 + 0.03 x 2) = 0.930."""

    reference_bits: int = 16
    mult_share: float = (HOROWITZ_MULT8_PJ * 4) / (HOROWITZ_MULT8_PJ * 4 + HOROWITZ_ADD8_PJ * 2)

    def mult_factor(self, choice: LayerChoice) -> float:
        """Multiplier energy per MAC relative to the reference MAC's multiplier."""
        mult = choice.multiplier
        if mult.is_exact:
            return (choice.mul_bits / self.reference_bits) ** 2
        r = mult.relative_power if mult.relative_power is not None else float("nan")
        return (APPROX_OPERAND_BITS / self.reference_bits) ** 2 * r

    def mac_factor(self, choice: LayerChoice) -> float:
        """MAC energy relative to the reference MAC."""
        add = choice.psum_bits / self.reference_bits
        return self.mult_share * self.mult_factor(choice) + (1 - self.mult_share) * add


DEFAULT_MODEL = PrecisionModel()


def reduction_level(stats: LayerStats) -> int | None:
    """Level index (Timeloop numbering: 0 = MAC, then storage innermost first) of the outermost storage level
    holding a reduction loop with bound > 1; 0 when nothing is reduced; None without a mapping."""
    if stats.mapping is None:
        return None
    names = [lvl.name for lvl in stats.levels]
    found = 0
    for mapped in stats.mapping.levels:
        if any(loop.dim in REDUCTION_DIMS and loop.bound > 1 for loop in mapped.loops):
            found = max(found, names.index(mapped.level))
    return found


def tensor_widths(stats: LayerStats, choice: LayerChoice) -> dict[str, dict[str, int]]:
    """{level name: {tensor: bits}} for the tensors each storage level of the run keeps."""
    top = reduction_level(stats)
    outermost = len(stats.levels) - 1
    widths: dict[str, dict[str, int]] = {}
    for index, level in enumerate(stats.levels[1:], start=1):
        psum = index < outermost if top is None else index <= top
        per_tensor = {
            "Weights": choice.weight_bits,
            "Inputs": choice.input_bits,
            "Outputs": choice.psum_bits if psum else choice.output_bits,
        }
        widths[level.name] = {t: per_tensor[t] for t in level.tensors}
    return widths


def scale_stats(
    stats: LayerStats, widths: Mapping[str, Mapping[str, int]], reference_bits: Mapping[str, int], mac_factor: float
) -> LayerStats:
    """A copy of `stats` with each (level, tensor) energy x widths / reference_bits[level] and the MAC energy x
    mac_factor; total = scaled levels + the recorded non-level (network) energy."""
    scaled = copy.deepcopy(stats)
    other = stats.total_energy_pJ - sum(level.energy_pJ for level in stats.levels)
    scaled.levels[0].arithmetic_energy_pJ *= mac_factor
    for level in scaled.levels[1:]:
        for tensor, tstats in level.tensors.items():
            factor = widths[level.name][tensor] / reference_bits[level.name]
            tstats.energy_pJ *= factor
            tstats.energy_per_access_pJ *= factor
    scaled.total_energy_pJ = sum(level.energy_pJ for level in scaled.levels) + other
    scaled.meta = {
        **stats.meta,
        "precision": {"widths": {k: dict(v) for k, v in widths.items()}, "mac_factor": mac_factor},
    }
    return scaled


def fast_mode(
    stats: LayerStats,
    choice: LayerChoice,
    model: PrecisionModel = DEFAULT_MODEL,
    level_bits: Mapping[str, int] | None = None,
) -> LayerStats:
    """The run's LayerStats rescaled to the layer's widths and multiplier (fast mode: same mapping).
    level_bits: each storage level's word-bits in the run's arch (default: model.reference_bits everywhere)."""
    reference = {level.name: (level_bits or {}).get(level.name, model.reference_bits) for level in stats.levels[1:]}
    return scale_stats(stats, tensor_widths(stats, choice), reference, model.mac_factor(choice))


def scaled_total_pJ(stats: LayerStats, choice: LayerChoice, model: PrecisionModel = DEFAULT_MODEL) -> float:
    """fast_mode(...).total_energy_pJ without copying the stats (for per-option cost tables)."""
    widths = tensor_widths(stats, choice)
    other = stats.total_energy_pJ - sum(level.energy_pJ for level in stats.levels)
    total = stats.levels[0].arithmetic_energy_pJ * model.mac_factor(choice) + other
    for level in stats.levels[1:]:
        total += sum(t.energy_pJ * widths[level.name][name] / model.reference_bits for name, t in level.tensors.items())
    return total


def energy_by_level(stats: LayerStats) -> dict[str, float]:
    """{"MAC": pJ, storage level: pJ (all tensors), ...}, innermost first (for plots.precision_levels_plot)."""
    out = {"MAC": stats.mac_energy_pJ}
    out.update({level.name: level.energy_pJ for level in stats.levels[1:] if level.tensors})
    return out
