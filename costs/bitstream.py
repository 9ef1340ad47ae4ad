"""Stochastic bitstream circuit cost (UW-Madison bitstream computing hackathon, BitSAD; docs/cost-models.md §5).

A fully spatial circuit: every output channel of a convolution is a dot-product unit per output pixel, every
output of a dense layer one unit. Per layer, with n_k the non-zero weights of filter (row) k:
    dot products  sum_k dp(n_k) x P x Q x N          (P = Q = 1 for a dense layer on a vector)
    generators    lfsr(count)                         count: see `lfsr_mode`
    power P = sum of dp_power and lfsr_power terms, area likewise; energy = P x bitstream_length.
Since dp is affine in n, sum_k dp(n_k) = a * nnz + b * M: only the layer's non-zero count (weights x density)
matters. Depthwise and grouped convolutions count as convolutions (filter k = its R S C/groups weights).
lfsr_mode: "as_published" charges lfsr(zero weights and biases) as the published code did (pruning raises the
cost; almost certainly a bug; biases are taken as non-zero), "corrected" lfsr(non-zero weights + one bias per
output channel). Units are relative (the tool printed uW, mm^2 and uW x cycles).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LFSR_MODES = ("as_published", "corrected")


@dataclass(frozen=True)
class Coefficients:
    """dp_*(n) = slope * n + intercept per dot-product unit of n inputs; lfsr_*(n) = slope * n."""

    dp_power: tuple[float, float]
    dp_area: tuple[float, float]
    lfsr_power: float
    lfsr_area: float


COEFFICIENTS = {
    "calibrated": Coefficients(dp_power=(0.2624, 1.5944), dp_area=(14.717, 56.324), lfsr_power=10.89, lfsr_area=354.31),
    "placeholder": Coefficients(dp_power=(2.0, 0.0), dp_area=(2.0, 0.0), lfsr_power=10.0, lfsr_area=10.0),
}


def bitstream_costs(
    table: pd.DataFrame, lfsr_mode: str = "corrected", coefficients: str | Coefficients = "calibrated"
) -> pd.DataFrame:
    """Per-layer bitstream_power, bitstream_area, bitstream_energy (= power x bitstream_length)."""
    if lfsr_mode not in LFSR_MODES:
        raise ValueError(f"lfsr_mode must be one of {', '.join(LFSR_MODES)}, got {lfsr_mode!r}")
    c = COEFFICIENTS[coefficients] if isinstance(coefficients, str) else coefficients
    nnz = table["weights"] * table["density"]
    units = table["N"] * table["P"] * table["Q"]
    count = table["weights"] - nnz if lfsr_mode == "as_published" else nnz + table["M"]
    power = (c.dp_power[0] * nnz + c.dp_power[1] * table["M"]) * units + c.lfsr_power * count
    area = (c.dp_area[0] * nnz + c.dp_area[1] * table["M"]) * units + c.lfsr_area * count
    return pd.DataFrame(
        {"bitstream_power": power, "bitstream_area": area, "bitstream_energy": power * table["bitstream_length"]}
    )


def bitstream_weights(weights: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """The accuracy penalty of a bitstream of `length` cycles: each weight (clamped to |w| <= 1) becomes
    sign(w) Binomial(length, |w|) / length, unbiased with std sqrt(|w|(1 - |w|) / length) <= 0.5 / sqrt(length)."""
    w = np.clip(np.asarray(weights, dtype=np.float64), -1.0, 1.0)
    return np.sign(w) * rng.binomial(length, np.abs(w)) / length
