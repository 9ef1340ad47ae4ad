"""Column schemas of the CSVs fuseloop writes (energies in uJ, cycles in accelerator clock cycles), derived from
the registered accelerator plug-ins (accelerators/).

res.csv keeps the paper artifact's column schema (its column-swap defects fixed: sparse_DW_c holds the depthwise
layer, sparse_PW2_c the projection; MnasNet's squeeze-and-excite added): `layer, part`, then every accelerator's
energy and cycles columns in registry order, then every accelerator's extra columns.
"""

from __future__ import annotations

import accelerators
from accelerators.base import ROW_COLUMNS

LAYER_COLUMNS = list(ROW_COLUMNS)
BAND_COLUMNS = ["energy_low_uJ", "energy_high_uJ"]  # optional: a layers table without a band is complete
REQUIRED_LAYER_COLUMNS = [c for c in LAYER_COLUMNS if c not in BAND_COLUMNS]

_PLUGINS = accelerators.all_plugins()


def res_columns(present: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """res.csv columns: those of every accelerator of the default sweep, plus those of opt-in accelerators (e.g.
    hybrid) in `present` (so registering an opt-in plug-in changes no table that does not evaluate it)."""
    plugins = [p for p in _PLUGINS if p.in_default_sweep or p.name in present]
    return (
        ["layer", "part"]
        + [c for p in plugins for c in p.columns.main]
        + [c for p in plugins for c in p.columns.trailing]
    )


RES_COLUMNS = res_columns()

# Which res.csv column a layers.csv row lands in: (accelerator, role) -> (energy column, cycles column) for block
# layers; head and tail layers use each accelerator's edge slot.
BODY_SLOTS = {(p.name, role): slot for p in _PLUGINS for role, slot in p.columns.body.items()}
EDGE_SLOTS = {p.name: p.columns.edge for p in _PLUGINS}

# Per accelerator: the res.csv columns whose sum is its energy / cycles.
TOTAL_COLUMNS = {p.name: p.columns.totals for p in _PLUGINS}

SUMMARY_COLUMNS = [
    "network",
    "dataset",
    "accelerator",
    "engine",
    "energy_uJ",
    "cycles",
    "energy_low_uJ",
    "energy_high_uJ",  # the band of energy_uJ (accelerators whose model has bounds; else empty)
    "archon_speedup",  # this accelerator's cycles / ARCHON's cycles (>1: ARCHON is faster)
    "archon_energy_ratio",  # this accelerator's energy / ARCHON's energy (>1: ARCHON uses less)
    "head_energy_share",
    "body_energy_share",
    "tail_energy_share",
    "head_cycles_share",
    "body_cycles_share",
    "tail_cycles_share",
]
