"""Partial-sum width energy E_W (NTHU VLSI System Design, HW2, 2021; docs/cost-models.md §4).

    E_W = sum over conv and fc layers of  s_mul * N_mul + s_add * N_add,   s_mul = 64 (B_mul / 8)^2,  s_add = B_add

The assignment calls the model artificial and oversimplified. Counts per layer, as its golden LeNet numbers fix them:
  N_mul = MACs
  N_add = MACs + cross-channel adds + bias adds, where
          cross-channel adds = N P Q M (C / groups) for every convolution (each output adds its per-input-channel
          window sums; the assignment's conv rule, applied to 1x1 and depthwise layers too; fc layers have none)
          bias adds          = N P Q M on the layers `bias` selects: "last" (the assignment: only the output layer),
                               "all" or "none".
B_add is the layer's psum width; B_mul is `b_mul`: "psum" (the psum width, the assignment's main setting),
"operand" (max of weight and input widths) or a fixed integer (e.g. 8).
"""

from __future__ import annotations

import pandas as pd

B_MUL_MODES = ("psum", "operand")
BIAS_MODES = ("last", "all", "none")


def psum_counts(table: pd.DataFrame, bias: str = "last") -> pd.DataFrame:
    """Per-layer N_mul and N_add (columns n_mul, n_add) of a layer table (costs.layer_table)."""
    if bias not in BIAS_MODES:
        raise ValueError(f"bias must be one of {', '.join(BIAS_MODES)}, got {bias!r}")
    outputs = table["N"] * table["P"] * table["Q"] * table["M"]
    cross = (table["kind"] != "fc") * outputs * (table["C"] // table["groups"])
    with_bias = table["is_last"] if bias == "last" else pd.Series(bias == "all", index=table.index)
    return pd.DataFrame({"n_mul": table["macs"], "n_add": table["macs"] + cross + with_bias * outputs})


def partial_sum_energy(table: pd.DataFrame, b_mul: str | int = "psum", bias: str = "last") -> pd.Series:
    """Per-layer E_W (arbitrary units) of a layer table; sum it for the network."""
    counts = psum_counts(table, bias)
    if b_mul == "psum":
        mul_bits = table["psum_bits"]
    elif b_mul == "operand":
        mul_bits = table["mul_bits"]
    elif isinstance(b_mul, int) and not isinstance(b_mul, bool) and b_mul > 0:
        mul_bits = pd.Series(b_mul, index=table.index)
    else:
        raise ValueError(f"b_mul must be one of {', '.join(B_MUL_MODES)} or a positive integer, got {b_mul!r}")
    s_mul = 64 * (mul_bits / 8) ** 2
    return (s_mul * counts["n_mul"] + table["psum_bits"] * counts["n_add"]).rename("E_W")
