"""ARCHON, the predictive layer-fusion model (docs/method.md §6).

    params = load_params("paper", "mobilenet", "cifar10")          # or "default"; overrides={knob: value}
    result = evaluate_block(block, {"pred_decom": s1, "pred_conv": s2}, main_stats, params)
    result.energy_pJ, result.cycles, result.columns_uJ()

Modules: params (knobs + presets.yaml), predictions, main, overhead (action counts x the energy table in
arch/archon/overhead/), block (per-block and head/tail evaluation), workflow (layers.csv rows for the Snakemake
workflow).
"""

from .block import BlockResult, EdgeResult, evaluate_block, evaluate_blocks, evaluate_edge_layer
from .main import MainCost, main_cost
from .overhead import (
    OverheadCost,
    OverheadCounts,
    action_counts,
    overhead_cost,
    read_action_counts,
    write_action_counts,
)
from .params import FusionParams, FusionParamsError, load_params, presets
from .predictions import PredictionCost, prediction_cost
from .runs import FusionError

__all__ = [
    "BlockResult",
    "EdgeResult",
    "evaluate_block",
    "evaluate_blocks",
    "evaluate_edge_layer",
    "MainCost",
    "main_cost",
    "OverheadCost",
    "OverheadCounts",
    "action_counts",
    "overhead_cost",
    "read_action_counts",
    "write_action_counts",
    "FusionParams",
    "FusionParamsError",
    "load_params",
    "presets",
    "PredictionCost",
    "prediction_cost",
    "FusionError",
]
