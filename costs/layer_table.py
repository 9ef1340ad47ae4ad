"""The layer table every score reads: one row per (layer, choice), shapes plus the resolved choices.

Scores (micronet, psum, bitstream, multiply energy) are pure, vectorised functions of this DataFrame, so the
same code costs one network's layers (columns.py) or every (layer, option) pair of a search space (table.py).

Columns: layer, part, block, role, kind, R, S, P, Q, C, M, N, stride, groups, macs, weights, outputs,
weight_bits, input_bits, output_bits, psum_bits, mul_bits, multiplier, mult_kind, mult_relative_power,
mult_relative_area, mult_power_source, mult_mre_pct, mult_mae_pct, density, bitstream_length, and three
structural columns the scores use: relu (a ReLU follows: every layer except bottleneck projections `comp` and
the network's last layer), is_last, gap_hw / gap_channels (a global average pool feeds this layer: an fc layer
at 1x1 after a layer with a larger map; 0 otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from .choices import LayerChoice

SHAPE_COLUMNS = ["R", "S", "P", "Q", "C", "M", "N", "stride", "groups"]


def _choice_columns(choice: LayerChoice) -> dict[str, Any]:
    mult = choice.multiplier
    metrics = mult.metrics()
    return {
        "weight_bits": choice.weight_bits,
        "input_bits": choice.input_bits,
        "output_bits": choice.output_bits,
        "psum_bits": choice.psum_bits,
        "mul_bits": choice.mul_bits,
        "multiplier": mult.name,
        "mult_kind": mult.kind,
        "mult_relative_power": float("nan") if mult.relative_power is None else mult.relative_power,
        "mult_relative_area": float("nan") if mult.relative_area is None else mult.relative_area,
        "mult_power_source": mult.power_source,
        "mult_mre_pct": float("nan") if metrics is None else metrics.mre_pct,
        "mult_mae_pct": float("nan") if metrics is None else metrics.mae_pct,
        "density": choice.density,
        "bitstream_length": choice.bitstream_length,
    }


def _structure(layers: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for i, layer in enumerate(layers):
        prev = layers[i - 1] if i else layer
        pooled = i > 0 and layer.kind == "fc" and layer.P == layer.Q == 1 and prev.P * prev.Q > 1
        last = i == len(layers) - 1
        out.append(
            {
                "relu": not last and layer.role != "comp",
                "is_last": last,
                "gap_hw": prev.P * prev.Q if pooled else 0,
                "gap_channels": prev.M if pooled else 0,
            }
        )
    return out


def _base_rows(layers: Sequence[Any]) -> list[dict[str, Any]]:
    rows = []
    for layer, structure in zip(layers, _structure(layers), strict=True):
        row = {"layer": layer.name, "part": layer.part, "block": layer.block, "role": layer.role, "kind": layer.kind}
        row.update({key: getattr(layer, key) for key in SHAPE_COLUMNS})
        row.update(macs=layer.macs, weights=layer.weights, outputs=layer.N * layer.P * layer.Q * layer.M)
        row.update(structure)
        rows.append(row)
    return rows


def _layers(layers: Any) -> list[Any]:
    return list(layers.layers() if hasattr(layers, "layers") else layers)


def layer_table(layers: Any, choices: Mapping[str, LayerChoice]) -> pd.DataFrame:
    """One row per layer of a Network (or a list of Layers), with its choice (missing: LayerChoice())."""
    rows = _base_rows(_layers(layers))
    return pd.DataFrame([{**row, **_choice_columns(choices.get(row["layer"], LayerChoice()))} for row in rows])


def option_table(layers: Any, options: Mapping[str, Iterable[LayerChoice]]) -> pd.DataFrame:
    """One row per (layer, option): `options[layer name]` lists that layer's candidate choices. Column
    `position` is the layer's index in the network, `option` the choice's index in its list. Layers without
    options get the default LayerChoice() as their only option."""
    rows = []
    for position, row in enumerate(_base_rows(_layers(layers))):
        for index, choice in enumerate(options.get(row["layer"], [LayerChoice()])):
            rows.append({**row, **_choice_columns(choice), "position": position, "option": index})
    return pd.DataFrame(rows)
