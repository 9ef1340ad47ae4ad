"""The cost columns of a network's per-layer rows (the layers.csv schema, analysis.schema.LAYER_COLUMNS), for the
workflow to write beside layers.csv / res.csv / summary.csv.

    layers, summary = cost_columns(network, rows, choices, stats=runs, settings=CostSettings())

Per row whose `layer` is one of the network's layers (other rows, e.g. ARCHON overhead, get NaN):
  the layer's choices (weight_bits, input_bits, output_bits, psum_bits, multiplier, density, bitstream_length),
  mult_energy_uJ, mult_area_um2, error_proxy, E_W, micronet_* and bitstream_* (costs.scores), and
  energy_scaled_uJ = energy_uJ x (fast-mode precision-scaled run energy / run energy) when that layer's run
  (LayerStats) is given: `stats[(accelerator, layer)]`, or `stats[layer]` for rows of the accelerators in
  `scaled_accelerators` (dense and sparse rows are costed from the dense run). The ratio keeps the row's own
  corrections (repeat of grouped layers, the paper's depthwise input fix) scaled with the rest. Rows whose `phase`
  is in `keep_phases` keep their energy (energy_scaled_uJ = energy_uJ): the workflow passes ARCHON's prediction and
  overhead phases, whose costs come from ARCHON's own precision model (low-precision predictions, fusion unit).
Summary: one row per accelerator in `rows` (one row without rows) with energy_uJ and energy_scaled_uJ summed
over its rows, and the network totals of the layer-level columns (they do not depend on the accelerator):
mult_energy_uJ, error_proxy, E_W, micronet params/ops/scores, bitstream power/area/energy, and mult_area_um2 =
the area of one of each distinct multiplier the network uses (what every PE would need to carry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from engines.stats import LayerStats

from .choices import ChoiceTable, LayerChoice
from .layer_table import layer_table
from .precision import fast_mode
from .scores import DEFAULT_SETTINGS, CostSettings, layer_scores

PJ_PER_UJ = 1e6
CHOICE_COLUMNS = ["weight_bits", "input_bits", "output_bits", "psum_bits", "multiplier", "density", "bitstream_length"]
ADDITIVE = [
    "mult_energy_uJ",
    "error_proxy",
    "E_W",
    "micronet_params",
    "micronet_ops",
    "micronet_score_imagenet",
    "micronet_score_cifar100",
    "bitstream_power",
    "bitstream_area",
    "bitstream_energy",
]
LAYER_COST_COLUMNS = (
    CHOICE_COLUMNS + ["mult_energy_uJ", "mult_area_um2"] + [c for c in ADDITIVE if c != "mult_energy_uJ"]
)


def network_costs(
    network: Any,
    choices: ChoiceTable | Mapping[str, LayerChoice],
    settings: CostSettings = DEFAULT_SETTINGS,
    stats: Mapping[str, LayerStats] | None = None,
) -> pd.DataFrame:
    """One row per network layer: its choices and cost columns (energies in uJ)."""
    resolved = choices.resolve(network) if isinstance(choices, ChoiceTable) else dict(choices)
    table = layer_table(network, resolved)
    mac = None
    if stats:
        per_mac = [
            stats[n].mac_energy_pJ / stats[n].macs if n in stats and stats[n].macs else np.nan for n in table["layer"]
        ]
        mac = pd.Series(per_mac, index=table.index).fillna(settings.mac_energy_pJ)
    scores = layer_scores(table, settings, mac)
    out = pd.concat([table[["layer"] + CHOICE_COLUMNS], scores], axis=1)
    out["mult_energy_uJ"] = out.pop("mult_energy_pJ") / PJ_PER_UJ
    return out[["layer"] + LAYER_COST_COLUMNS]


def _scale_ratio(run: LayerStats | None, choice: LayerChoice, settings: CostSettings) -> float:
    if run is None or not run.total_energy_pJ:
        return np.nan
    return fast_mode(run, choice, settings.precision).total_energy_pJ / run.total_energy_pJ


def cost_columns(
    network: Any,
    rows: pd.DataFrame | None,
    choices: ChoiceTable | Mapping[str, LayerChoice],
    stats: Mapping[Any, LayerStats] | None = None,
    settings: CostSettings = DEFAULT_SETTINGS,
    scaled_accelerators: tuple[str, ...] = ("dense", "sparse"),
    keep_phases: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-row cost columns joined onto `rows`, summary); see the module docstring."""
    resolved = choices.resolve(network) if isinstance(choices, ChoiceTable) else dict(choices)
    stats = stats or {}
    by_layer = {k: v for k, v in stats.items() if isinstance(k, str)}
    costs = network_costs(network, resolved, settings, by_layer)
    names = set(costs["layer"])
    if rows is None:
        layers = costs.copy()
        groups: list[tuple[str, pd.DataFrame]] = [("", layers)]
    else:
        layers = rows.merge(costs, on="layer", how="left")
        ratios = []
        phases = layers["phase"] if "phase" in layers else [""] * len(layers)
        accelerators = layers.get("accelerator", [""] * len(layers))
        for accelerator, layer, phase in zip(accelerators, layers["layer"], phases, strict=True):
            if phase in keep_phases:
                ratios.append(1.0)
                continue
            run = stats.get((accelerator, layer))
            if run is None and accelerator in scaled_accelerators:
                run = by_layer.get(layer)
            known = layer in names
            ratios.append(_scale_ratio(run, resolved.get(layer, LayerChoice()), settings) if known else np.nan)
        layers["energy_scaled_uJ"] = layers["energy_uJ"] * np.array(ratios, dtype=float)
        groups = list(layers.groupby("accelerator", sort=False)) if "accelerator" in layers else [("", layers)]
    summary = pd.DataFrame([_summary_row(network, accelerator, group, costs) for accelerator, group in groups])
    return layers, summary


def _summary_row(network: Any, accelerator: str, group: pd.DataFrame, costs: pd.DataFrame) -> dict[str, Any]:
    row: dict[str, Any] = {
        "network": getattr(network, "name", ""),
        "dataset": getattr(network, "dataset", ""),
        "accelerator": accelerator,
    }
    if "energy_uJ" in group:
        row["energy_uJ"] = group["energy_uJ"].sum()
        row["energy_scaled_uJ"] = group["energy_scaled_uJ"].sum(min_count=len(group))
    row.update({column: costs[column].sum() for column in ADDITIVE})
    distinct = costs.drop_duplicates(["multiplier", "mult_area_um2"])
    row["mult_area_um2"] = distinct["mult_area_um2"].sum()
    row["multipliers"] = " ".join(sorted(set(distinct["multiplier"])))
    return row
