"""MicroNet Challenge score (NeurIPS 2019; docs/cost-models.md §3): score = params / P_ref + ops / O_ref, lower is
better, both counted in 32-bit equivalents (a b-bit value or op counts b / 32).

Counting per layer of a layer table (costs.layer_table), a first-order reading of the rules:
  params  kept weights (weights x density) at weight_bits, plus a 1-bit mask over the full weight shape when the
          layer is pruned (density < 1), plus one bias per output channel at psum_bits (BatchNorm is assumed
          folded into weights and bias, as an integer deployment does);
  ops     a dot product of length n = (R S C / groups) x density: n mults at mul_bits (max of the operand widths)
          and n adds at psum_bits (n - 1 accumulations + 1 bias add), per output; a ReLU (column `relu`) is 1 mult
          per output at output_bits (activation sparsity is not exploited); a global average pool feeding the
          layer (gap_hw, gap_channels) is (HW - 1) adds + 1 mult per channel at the layer's input_bits.
  freebie values not quantised below 16 bits may count params and mults at 16 bits; adds stay at their width.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Reference:
    name: str
    params: float  # P_ref
    ops: float  # O_ref (per inference example)


REFERENCES = {
    "imagenet": Reference("MobileNetV2-1.4 (ImageNet)", 6.9e6, 1170e6),
    "cifar100": Reference("WideResNet-28-10 (CIFAR-100)", 36.5e6, 10.49e9),
}


def score(params: float, ops: float, reference: str | Reference = "imagenet") -> float:
    """params / P_ref + ops / O_ref (params and ops already in 32-bit equivalents)."""
    ref = REFERENCES[reference] if isinstance(reference, str) else reference
    return params / ref.params + ops / ref.ops


def micronet_counts(table: pd.DataFrame, freebie: bool = False) -> pd.DataFrame:
    """Per-layer params, mults, adds and ops (= mults + adds), in 32-bit equivalents."""

    def width(bits: pd.Series, free: bool) -> pd.Series:
        return (np.minimum(bits, 16) if free else bits) / 32

    density = table["density"]
    kept = table["weights"] * density
    mask = np.where(density < 1, table["weights"] / 32, 0.0)
    params = kept * width(table["weight_bits"], freebie) + mask + table["M"] * width(table["psum_bits"], freebie)
    dot = table["macs"] * density
    relu = table["relu"] * table["outputs"] * width(table["output_bits"], freebie)
    mults = dot * width(table["mul_bits"], freebie) + relu
    mults = mults + table["gap_channels"] * (table["gap_hw"] > 0) * width(table["input_bits"], freebie)
    adds = dot * table["psum_bits"] / 32
    adds = adds + table["gap_channels"] * np.maximum(table["gap_hw"] - 1, 0) * table["input_bits"] / 32
    return pd.DataFrame(
        {"micronet_params": params, "micronet_mults": mults, "micronet_adds": adds, "micronet_ops": mults + adds}
    )
