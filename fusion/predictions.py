"""ARCHON prediction layers: a dense 16-bit run adjusted to the low-precision ReLU-sign prediction
(docs/method.md §6.1).

A prediction layer is simulated as an ordinary dense layer on the predictions arch, then corrected:
  * weights are `pred_weight_bits` wide: 1 - pred_weight_bits/word_bits of all Weights energy is removed;
  * activations are `q` bits: 1 - b_r (b_r = q/word_bits) of all Inputs energy is removed;
  * multiplies become additions: the MAC energy is replaced by one `add_energy_pJ` per MAC (x b_r) plus one
    `mac_energy_pJ` per predicted output;
  * only the sign of each output leaves the array: `sign_bits` per output, written to DRAM here with
    mask_storage proxy (the reference), or stored in pred_glb / spilled to DRAM and costed in the overhead with
    mask_storage capacity (fusion/overhead.py). The first
    prediction (pred_decom) also writes its q-bit outputs, which feed the second prediction (b_r of its DRAM
    Outputs energy is kept); the second prediction (pred_conv / pred_comp) writes nothing else (its global
    buffer and DRAM Outputs energy is removed);
  * the adders do `adders` additions per PE per cycle: cycles = run cycles x repeat / adders.

Formula 'A' is the above (the reference's mobilenet/mnasnet adjust_pred, with its quirks as knobs).
Formula 'B' is the reference's fusionet/shufflenet adjust_pred, reproduced as written (paper preset only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from engines.stats import LayerStats
from workloads.layer import Layer
from workloads.network import Block

from .params import FusionParams
from .runs import (
    FusionError,
    base_energy_pJ,
    chip_levels,
    dw_input_fix,
    outer,
    outputs_partition,
    pe_levels,
    repeat,
    storage,
    tensor_pJ,
)

PREDICTION_ROLES = ("pred_decom", "pred_conv", "pred_comp")


@dataclass(frozen=True)
class PredictionCost:
    """Energy (pJ) and cycles of one whole prediction layer; `terms` is the energy breakdown (pJ, sums to energy)."""

    energy_pJ: float
    cycles: int
    terms: dict[str, float] = field(default_factory=dict)


def prediction_cycles(stats: LayerStats, layer: Layer, params: FusionParams) -> int:
    """Run cycles x repeat / the adder throughput, rounded by `cycle_rounding`."""
    total = stats.cycles * repeat(layer, params)
    rounding = math.floor if params.cycle_rounding == "floor" else math.ceil
    return int(rounding(total / params.adders))


def prediction_cost(layer: Layer, block: Block, stats: LayerStats, params: FusionParams) -> PredictionCost:
    """The cost of prediction layer `layer` of `block` from its dense run `stats` (one problem copy)."""
    if layer.role not in PREDICTION_ROLES:
        raise FusionError(
            f"layer {layer.name}: role {layer.role!r} is not a prediction role ({', '.join(PREDICTION_ROLES)})"
        )
    formula = _formula_a if params.pred_formula == "A" else _formula_b
    terms = formula(layer, block, stats, params)
    copies = repeat(layer, params)
    terms = {key: value * copies for key, value in terms.items()}
    return PredictionCost(sum(terms.values()), prediction_cycles(stats, layer, params), terms)


def _kept_fraction(block: Block, params: FusionParams) -> float:
    """b_r: fraction of the activation traffic kept (1 when activations are not quantized)."""
    if not params.quantize_activations:
        return 1.0
    return params.act_bits(block) / params.word_bits


def _outputs_per_copy(layer: Layer, stats: LayerStats, params: FusionParams) -> float:
    """Predicted outputs of one problem copy (one full multiply each)."""
    if layer.kind == "depthwise" and params.dw_mac_divisor is not None:
        return stats.macs / params.dw_mac_divisor
    return layer.N * layer.P * layer.Q * layer.M / repeat(layer, params)


def _common(layer: Layer, stats: LayerStats, params: FusionParams) -> dict[str, float]:
    """Terms both formulas share: the run, sign writes, low-precision weights, no multiplier energy."""
    # mask_storage capacity: the masks' writes (and reads) are costed where they are stored (overhead)
    signs = outputs_partition(stats, layer) * params.sign_write_pJ if params.mask_storage == "proxy" else 0.0
    return {
        "run": base_energy_pJ(stats, params),
        "sign_writes": signs,
        "weights": -params.weight_traffic_removed * tensor_pJ(storage(stats), "Weights"),
        "mac": -stats.mac_energy_pJ,
    }


def _formula_a(layer: Layer, block: Block, stats: LayerStats, params: FusionParams) -> dict[str, float]:
    b_r = _kept_fraction(block, params)
    fix = dw_input_fix(stats, layer, params.dw_fix_pred_levels, params)
    inputs = tensor_pJ(storage(stats), "Inputs") + sum(fix.values())
    terms = _common(layer, stats, params)
    terms["dw_fix"] = sum(fix.values())
    terms["inputs_quantized"] = -(1 - b_r) * inputs
    if layer.role == "pred_decom":  # q-bit outputs feed the next prediction
        terms["outputs"] = -(1 - b_r) * tensor_pJ([outer(stats)], "Outputs")
    else:  # only the sign mask leaves
        terms["outputs"] = -tensor_pJ(chip_levels(stats), "Outputs")
    terms["pred_macs"] = params.mac_energy_pJ * _outputs_per_copy(layer, stats, params)
    terms["pred_adds"] = params.add_energy_pJ * stats.macs * b_r
    return terms


def _formula_b(layer: Layer, block: Block, stats: LayerStats, params: FusionParams) -> dict[str, float]:
    """The reference's fusionet/shufflenet adjust_pred (docs/method.md §6.1 version B): DRAM-only dw fix whose
    quantization term uses the unfixed inputs, no per-PE inputs in the decom term, MACs / in_ch for every layer,
    no b_r on the additions."""
    b_r = _kept_fraction(block, params)
    chip_in = tensor_pJ(chip_levels(stats), "Inputs")  # DRAM + GLB
    pe_in = tensor_pJ(pe_levels(stats), "Inputs")
    terms = _common(layer, stats, params)
    if layer.role == "pred_conv":
        terms["dw_fix"] = sum(dw_input_fix(stats, layer, params.dw_fix_pred_levels, params).values())
        terms["inputs_quantized"] = -(1 - b_r) * (chip_in + pe_in)
        terms["outputs"] = -tensor_pJ(chip_levels(stats), "Outputs")
    elif layer.role == "pred_comp":
        terms["inputs_quantized"] = -(1 - b_r) * (chip_in + pe_in)
        terms["outputs"] = -tensor_pJ([outer(stats)], "Outputs")
    else:
        terms["outputs"] = -(1 - b_r) * tensor_pJ([outer(stats)], "Outputs")
        terms["inputs_quantized"] = -(1 - b_r) * chip_in
    terms["pred_macs"] = params.mac_energy_pJ * stats.macs / block.in_ch
    terms["pred_adds"] = params.add_energy_pJ * stats.macs
    return terms
