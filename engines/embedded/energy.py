"""Per-level access energies the embedded model uses, from an energy reference table (specs.energy).

Timeloop's rule (2021 version): a component's *vector access energy* is the maximum energy over all its actions
and argument combinations (reads, writes and idle alike); a buffer pays it once per block of `block-size` words
(divided by the cluster size), the arithmetic level once per MAC. So the GLB of the reference baseline costs
max(write) = 70.264 pJ per 4-word block (17.566 pJ per scalar) for reads and writes, and the MAC `mac_random` =
2.2 pJ. Components are matched to levels by their short name (``system.eyeriss.PE[0..71].mac`` -> ``mac``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specs.energy import EnergyTable as ErtTable
from specs.energy import find_energy_table, load_ert, parse_ert, short_name

from ..base import EngineError

WIRE_COMPONENTS = ("wire", "Wire")  # Timeloop turns these into network (wire) energy


@dataclass(frozen=True)
class EnergyTable:
    """Vector access energy (pJ) per component short name."""

    vector_energy_pJ: dict[str, float]
    source: str = ""

    def energy(self, level: str) -> float:
        try:
            return self.vector_energy_pJ[level]
        except KeyError:
            raise EngineError(
                f"{self.source}: energy table has no entry for level {level!r}; it has {sorted(self.vector_energy_pJ)}"
            ) from None


def load_energy_table(path: str | Path) -> EnergyTable:
    """The vector access energies of an Accelergy ERT file."""
    return vector_energies(load_ert(path))


def parse_energy_table(data: Any, source: str = "<ERT>") -> EnergyTable:
    """The vector access energies of an already-loaded ERT document."""
    return vector_energies(parse_ert(data, source))


def vector_energies(table: ErtTable) -> EnergyTable:
    energies = {}
    for name in table.names():
        if short_name(name) in WIRE_COMPONENTS:
            raise EngineError(
                f"{table.source}: component {name} is a wire: network energy is not modelled by the "
                "embedded engine (its networks cost 0 pJ)"
            )
        energies[short_name(name)] = table.max_energy(name) if table.actions(name) else 0.0
    return EnergyTable(energies, table.source)


def find_ert_file(arch: str | Path) -> Path:
    """The ERT next to an architecture (see specs.energy.find_energy_table)."""
    return find_energy_table(arch)
