"""A multiplier choice: its cost (power and area relative to the exact 8x8 multiplier) and, when known, its
256x256 product table (for accuracy evaluation and measured error metrics).

Names a choices file may use for `multiplier`:
  exact                    the exact multiplier (r = 1; at 8 bits it is EvoApprox's mul8u_1JFF)
  mul8u_<ID>               one of the 36 EvoApprox8b circuits: published power/area/error figures; a product table
                           only for mul8u_1JFF (exact) and mul8u_199Z (zero), or one the user attaches
  trunc<k>, bam_h<h>_v<v>, mitchell, drum<k>
                           a family fuseloop builds from its definition (costs/families.py): exact product table,
                           estimated relative power/area (families.estimated_relative_power)
  table:<path>             a user tf-approximate .bin table (path relative to the choices file); power unknown
  <any name>               defined in the choices file's `multipliers:` section
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .evoapprox import EXACT, ZERO, evoapprox_table
from .families import estimated_relative_power, exact_table, family_table, is_family
from .metrics import ErrorMetrics, error_metrics
from .tfapprox import read_bin

KINDS = ("exact", "evoapprox", "family", "table")
TABLE_PREFIX = "table:"


class MultiplierError(ValueError):
    """An unknown multiplier name or a bad multiplier definition."""


@dataclass(frozen=True)
class Multiplier:
    """name: as chosen; kind: exact | evoapprox | family | table; power_source: published | estimate | user |
    unknown (relative_power None: multiply-energy columns are NaN)."""

    name: str
    kind: str
    relative_power: float | None
    relative_area: float | None
    power_source: str
    table_path: Path | None = None

    @property
    def is_exact(self) -> bool:
        return self.kind == "exact"

    @property
    def area_um2(self) -> float | None:
        """Area of one 8x8 multiplier (PDK45, scaled from EvoApprox's exact mul8u_1JFF)."""
        if self.relative_area is None:
            return None
        return self.relative_area * evoapprox_table()[EXACT].area_um2

    def table(self) -> np.ndarray | None:
        """uint16[256, 256] products, or None when this multiplier's behaviour is unknown."""
        if self.table_path is not None:
            return _read_table(str(self.table_path))
        if self.kind in ("exact", "family"):
            return family_table("exact" if self.kind == "exact" else self.name)
        if self.name == EXACT:
            return exact_table()
        if self.name == ZERO:
            return np.zeros((256, 256), dtype=np.uint16)
        return None

    def metrics(self) -> ErrorMetrics | None:
        """Measured over all 65,536 pairs when the table is known, else the published EvoApprox figures."""
        if self.table() is not None:
            return _measured(self)
        entry = evoapprox_table().get(self.name)
        if entry is None:
            return None
        return ErrorMetrics(entry.mae_pct, entry.wce_pct, entry.ep_pct, entry.mre_pct, entry.mse, float("nan"))


@lru_cache(maxsize=64)
def _read_table(path: str) -> np.ndarray:
    return read_bin(path)


@lru_cache(maxsize=256)
def _measured(multiplier: Multiplier) -> ErrorMetrics:
    table = multiplier.table()
    assert table is not None
    return error_metrics(table)


def library_multiplier(name: str) -> Multiplier:
    """A built-in multiplier by name (exact, an EvoApprox name or a family instance)."""
    if name == "exact":
        return Multiplier("exact", "exact", 1.0, 1.0, "published")
    entry = evoapprox_table().get(name)
    if entry is not None:
        return Multiplier(name, "evoapprox", entry.relative_power, entry.relative_area, "published")
    if is_family(name):
        family_table(name)  # validates the parameters
        r = estimated_relative_power(name)
        return Multiplier(name, "family", r, r, "estimate")
    raise MultiplierError(
        f"unknown multiplier {name!r} (exact, mul8u_<ID> of EvoApprox8b, trunc<k>, bam_h<h>_v<v>, "
        f"mitchell, drum<k>, table:<path>, or a name defined under `multipliers:`)"
    )


def table_multiplier(
    path: Path,
    name: str | None = None,
    relative_power: float | None = None,
    relative_area: float | None = None,
    base: Multiplier | None = None,
) -> Multiplier:
    """A multiplier with a user product table; costs from the arguments, else from `base`, else unknown."""
    if not path.is_file():
        raise MultiplierError(f"multiplier table {path} does not exist")
    power = relative_power if relative_power is not None else (base.relative_power if base else None)
    area = relative_area if relative_area is not None else (base.relative_area if base else None)
    source = "user" if relative_power is not None else (base.power_source if base else "unknown")
    kind = base.kind if base and base.kind == "evoapprox" else "table"
    return Multiplier(name or f"{TABLE_PREFIX}{path}", kind, power, area, source, path)
