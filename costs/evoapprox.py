"""The 36 EvoApprox8b 8x8 unsigned multipliers shipped as data (costs/data/evoapprox8b.csv; source in its header).

Relative power r = power / power(exact) and relative area likewise, with mul8u_1JFF the exact multiplier.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "evoapprox8b.csv"
EXACT = "mul8u_1JFF"
ZERO = "mul8u_199Z"  # outputs a constant 0


@dataclass(frozen=True)
class EvoApproxEntry:
    name: str
    mae_pct: float
    wce_pct: float
    ep_pct: float
    mre_pct: float
    mse: float
    power_mW: float
    area_um2: float
    delay_ns: float

    @property
    def relative_power(self) -> float:
        return self.power_mW / evoapprox_table()[EXACT].power_mW

    @property
    def relative_area(self) -> float:
        return self.area_um2 / evoapprox_table()[EXACT].area_um2


@lru_cache(maxsize=1)
def evoapprox_table() -> dict[str, EvoApproxEntry]:
    """name -> entry, in the file's order (exact first, then by decreasing power)."""
    lines = [line for line in DATA.read_text().splitlines() if line and not line.startswith("#")]
    entries: dict[str, EvoApproxEntry] = {}
    for row in csv.DictReader(lines):
        name = row.pop("name")
        entries[name] = EvoApproxEntry(name, **{key: float(value) for key, value in row.items()})
    return entries


def evoapprox_names() -> list[str]:
    return list(evoapprox_table())
