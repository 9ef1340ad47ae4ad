"""Multiply energy and area per layer (docs/cost-models.md §2) and the accuracy-proxy error, from a layer table.

    mult_energy = MACs x E_mult(exact) x r,   E_mult(exact) = E_mac_ref x f x (b / b_ref)^2
E_mac_ref is the reference (16-bit) MAC energy per operation, f the multiplier's share of it and b_ref = 16
(costs.precision.PrecisionModel); b = max(weight, input) bits for the exact multiplier, 8 for an approximate 8x8
circuit, whose r = power / power(exact) (1 for exact). Every MAC is counted (dense: zero weights are multiplied).
    mult_area = area of one multiplier: r_area x 709.6 um^2 (EvoApprox's exact 8x8 mul8u_1JFF, PDK45); an exact
                multiplier of b bits: (b / 8)^2 x 709.6 um^2.
    error_proxy = MACs x MRE (as a fraction) of the layer's multiplier: expected relative error mass (§2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .evoapprox import EXACT, evoapprox_table
from .precision import DEFAULT_MODEL, PrecisionModel

# The reference MAC energy of fuseloop's archs: arch/energy/accelergy-45nm-16bit.yaml, intmac mac_random (pJ).
REFERENCE_MAC_PJ = 2.2


def multiply_costs(
    table: pd.DataFrame, mac_energy_pJ: float | pd.Series = REFERENCE_MAC_PJ, model: PrecisionModel = DEFAULT_MODEL
) -> pd.DataFrame:
    """Per-layer mult_energy_pJ, mult_area_um2 and error_proxy."""
    exact = table["mult_kind"] == "exact"
    approx_bits = 8
    bits = np.where(exact, table["mul_bits"], approx_bits)
    r_power = np.where(exact, 1.0, table["mult_relative_power"])
    r_area = np.where(exact, (table["mul_bits"] / 8) ** 2, table["mult_relative_area"])
    per_mac = mac_energy_pJ * model.mult_share * (bits / model.reference_bits) ** 2 * r_power
    exact_area = evoapprox_table()[EXACT].area_um2
    return pd.DataFrame(
        {
            "mult_energy_pJ": table["macs"] * per_mac,
            "mult_area_um2": r_area * exact_area,
            "error_proxy": table["macs"] * table["mult_mre_pct"] / 100,
        },
        index=table.index,
    )
