"""Error metrics of an 8x8 product table over all 65,536 input pairs, normalised as in EvoApproxLib.

  mae_pct  mean |approx - exact| / 2^16 * 100
  wce_pct  max  |approx - exact| / 2^16 * 100
  ep_pct   share of pairs with approx != exact, in %
  mre_pct  mean |approx - exact| / exact over the pairs with exact > 0, in %
  mse      mean (approx - exact)^2 (raw, squared product units)
  bias     mean (approx - exact) (signed; what weight tuning can compensate)

These definitions reproduce the published figures of the EvoApprox8b circuits from their tf-approximate
product tables (checked on mul8u_2AC, 199Z, JQQ, Y48, L40, 1JFF, 17QU and YX7 to the printed digits).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .families import exact_table

FULL_SCALE = 2**16


@dataclass(frozen=True)
class ErrorMetrics:
    mae_pct: float
    wce_pct: float
    ep_pct: float
    mre_pct: float
    mse: float
    bias: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def error_metrics(table: np.ndarray) -> ErrorMetrics:
    table = np.asarray(table)
    if table.shape != (256, 256):
        raise ValueError(f"a product table has shape (256, 256), got {table.shape}")
    exact = exact_table().astype(np.int64)
    error = table.astype(np.int64) - exact
    absolute = np.abs(error)
    nonzero = exact > 0
    return ErrorMetrics(
        mae_pct=float(absolute.mean() / FULL_SCALE * 100),
        wce_pct=float(absolute.max() / FULL_SCALE * 100),
        ep_pct=float(np.count_nonzero(error) / error.size * 100),
        mre_pct=float((absolute[nonzero] / exact[nonzero]).mean() * 100),
        mse=float((error.astype(np.float64) ** 2).mean()),
        bias=float(error.mean()),
    )
