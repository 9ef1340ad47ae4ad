"""One ARCHON fused block (docs/method.md §6): predictions, then the fused main convolution, plus the fusion overhead.

    energy = pred_decom_e + pred_conv_e + main_e + overhead_e      (pJ)
    cycles = pred_decom_c + pred_conv_c + main_c                     (the three phases run one after another)

ShuffleNet predicts its second grouped 1x1 (role pred_comp) instead of the depthwise layer; its values sit in the
pred_conv_* fields (as in the reference's result.csv) and `second_role` says which layer it was.
Fused head/tail layers are ordinary layers on the predictions arch (`evaluate_edge_layer`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from engines.stats import LayerStats
from specs.records import JsonRecord
from workloads.layer import Layer
from workloads.network import Block

from .main import MainCost, main_cost
from .overhead import overhead_cost
from .params import FusionParams
from .predictions import PREDICTION_ROLES, prediction_cost
from .runs import FusionError, base_energy_pJ, dw_input_fix, repeat

SECOND_ROLES = ("pred_conv", "pred_comp")


@dataclass(frozen=True)
class BlockResult(JsonRecord):
    """A fused block's energies (pJ) and cycles per phase. `main_from` is the block whose main run was used."""

    block: int
    second_role: str
    pred_decom_e: float
    pred_conv_e: float
    main_e: float
    overhead_e: float
    pred_decom_c: int
    pred_conv_c: int
    main_c: int
    main_from: int
    overhead_terms: dict[str, float] = field(default_factory=dict)
    overhead_facts: dict[str, float] = field(default_factory=dict)  # fused-weight and mask quantities
    prediction_terms: dict[str, dict[str, float]] = field(default_factory=dict)  # {role: energy breakdown, pJ}

    @property
    def energy_pJ(self) -> float:
        return self.pred_decom_e + self.pred_conv_e + self.main_e + self.overhead_e

    @property
    def cycles(self) -> int:
        return self.pred_decom_c + self.pred_conv_c + self.main_c

    def columns_uJ(self) -> dict[str, float]:
        """The reference's fusion_results.csv / result.csv columns (energies in uJ, cycles)."""
        return {
            "pred_decom_e": self.pred_decom_e * 1e-6,
            "pred_conv_e": self.pred_conv_e * 1e-6,
            "main_e": self.main_e * 1e-6,
            "overhead_e": self.overhead_e * 1e-6,
            "pred_decom_c": self.pred_decom_c,
            "pred_conv_c": self.pred_conv_c,
            "main_c": self.main_c,
        }


@dataclass(frozen=True)
class EdgeResult:
    """A fused head/tail layer: energy (pJ) and cycles of the whole layer."""

    layer: str
    energy_pJ: float
    cycles: int

    def to_dict(self) -> dict:
        return asdict(self)


def second_role(block: Block) -> str:
    roles = {layer.role for layer in block.layers}
    unknown = sorted(roles - set(PREDICTION_ROLES) - {"main"})
    if unknown or "pred_decom" not in roles or "main" not in roles or len(roles & set(SECOND_ROLES)) != 1:
        raise FusionError(
            f"block {block.index}: a fused block needs pred_decom, one of pred_conv/pred_comp and main "
            f"(and nothing else), got roles {sorted(roles)}"
        )
    return next(r for r in SECOND_ROLES if r in roles)


def evaluate_block(
    block: Block,
    pred: Mapping[str, LayerStats],
    main: LayerStats | None,
    params: FusionParams,
    main_result: MainCost | None = None,
    main_from: int | None = None,
) -> BlockResult:
    """Evaluate one fused block from its runs: `pred` = {role: stats} of its prediction layers, `main` its main run.

    `main_result` replaces the main run's cost (used for the paper's main-run reuse, see `evaluate_blocks`)."""
    second = second_role(block)
    for role in ("pred_decom", second):
        if role not in pred:
            raise FusionError(f"block {block.index}: no run for {role} (got {sorted(pred)})")
    decom = prediction_cost(block.layer("pred_decom"), block, pred["pred_decom"], params)
    other = prediction_cost(block.layer(second), block, pred[second], params)
    if main_result is not None:
        main_part = main_result
    elif main is not None:
        main_part = main_cost(block.layer("main"), main, params)
    else:
        raise FusionError(f"block {block.index}: no main run given")
    overhead = overhead_cost(block, main_part, params)
    return BlockResult(
        block.index,
        second,
        decom.energy_pJ,
        other.energy_pJ,
        main_part.energy_pJ,
        overhead.energy_pJ,
        decom.cycles,
        other.cycles,
        main_part.cycles,
        main_from or block.index,
        overhead.terms,
        overhead.facts,
        {"pred_decom": decom.terms, second: other.terms},
    )


def evaluate_blocks(
    blocks: Sequence[Block], stats: Mapping[str, LayerStats], params: FusionParams
) -> list[BlockResult]:
    """Evaluate every block; `stats` maps layer names (`b<k>.<role>`) to runs.

    Blocks listed in params.main_reuse take the previous block's main result (energy and cycles) instead of their
    own run, as the reference's hard-coded list did; blocks in params.main_copied_from take another block's own
    main run (the reference's stale copies). Both are paper-preset quirks; a block's own main run may then be
    absent."""
    results: list[BlockResult] = []
    previous: tuple[MainCost, int] | None = None
    copies = params.main_copies
    by_index = {block.index: block for block in blocks}
    for block in blocks:
        pred = {layer.role: _run(stats, layer) for layer in block.layers if layer.role in PREDICTION_ROLES}
        if block.index in params.main_reuse:
            if previous is None:
                raise FusionError(f"field main_reuse: block {block.index} has no previous block to reuse")
            main_part, source = previous
        else:
            source = copies.get(block.index, block.index)
            if source not in by_index:
                raise FusionError(
                    f"field main_copied_from: block {block.index} copies block {source}, which is not evaluated"
                )
            main_layer = by_index[source].layer("main")
            main_part = main_cost(main_layer, _run(stats, main_layer), params)
        results.append(evaluate_block(block, pred, None, params, main_result=main_part, main_from=source))
        previous = (main_part, source)
    return results


def evaluate_edge_layer(layer: Layer, stats: LayerStats, params: FusionParams) -> EdgeResult:
    """A fused head/tail layer: the run's energy (+ the depthwise input fix for a paper-form run) x repeat,
    cycles x repeat (a grouped 1x1 is one group run G times)."""
    copies = repeat(layer, params)
    fix = dw_input_fix(stats, layer, params.dw_fix_edge_levels, params)
    energy = (base_energy_pJ(stats, params) + sum(fix.values())) * copies
    return EdgeResult(layer.name, energy, stats.cycles * copies)


def _run(stats: Mapping[str, LayerStats], layer: Layer) -> LayerStats:
    if layer.name not in stats:
        raise FusionError(f"layer {layer.name}: no run (stats) given")
    return stats[layer.name]
