"""Per-level access energies from an Accelergy energy reference table (ERT.yaml).

Timeloop's rule (2021 version): a component's *vector access energy* is the
maximum energy over all its actions and argument combinations (reads, writes and
idle alike); a buffer pays it once per block of `block-size` words (divided by
the cluster size), the arithmetic level once per MAC. So the GLB of the
reference baseline costs max(write) = 70.264 pJ per 4-word block (17.566 pJ
per scalar) for reads and writes, and the MAC `mac_random` = 2.2 pJ.

ERT component names are matched to levels by their last path segment without
the instance range (``system.eyeriss.PE[0..71].mac`` -> ``mac``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..base import EngineError
from .arch import split_path

# An Accelergy-generated ERT.yaml next to the arch takes precedence over the table fuseloop ships
# (ERT.fuseloop.yaml, written by arch/make_ert.py).
ERT_FILE_NAMES = ("ERT.yaml", "ERT.fuseloop.yaml")
WIRE_COMPONENTS = ("wire", "Wire")  # Timeloop turns these into network (wire) energy


@dataclass(frozen=True)
class EnergyTable:
    """Vector access energy (pJ) per component base name."""

    vector_energy_pJ: dict[str, float]
    source: str = ""

    def energy(self, level: str) -> float:
        try:
            return self.vector_energy_pJ[level]
        except KeyError:
            raise EngineError(f"{self.source}: energy table has no entry for level {level!r}; "
                              f"it has {sorted(self.vector_energy_pJ)}") from None


def component_base_name(name: str) -> str:
    """``system.eyeriss.DummyBuffer[0..7]`` -> ``DummyBuffer``."""
    return split_path(name)[-1].split("[")[0]


def find_ert_file(arch: str | Path) -> Path:
    path = Path(arch)
    directory = path if path.is_dir() else path.parent
    for name in ERT_FILE_NAMES:
        if (directory / name).is_file():
            return directory / name
    raise EngineError(f"{directory}: no energy reference table ({' or '.join(ERT_FILE_NAMES)}) next to the "
                      "architecture; the embedded engine needs one (Accelergy's output format)")


def load_energy_table(path: str | Path) -> EnergyTable:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise EngineError(f"{path}: cannot read energy reference table: {exc}") from exc
    return parse_energy_table(data, source=str(path))


def parse_energy_table(data: Any, source: str = "<ERT>") -> EnergyTable:
    root = data.get("ERT", data) if isinstance(data, dict) else None
    tables = root.get("tables") if isinstance(root, dict) else None
    if not isinstance(tables, list):
        raise EngineError(f"{source}: missing 'ERT.tables' list")
    energies: dict[str, float] = {}
    for i, entry in enumerate(tables):
        if not isinstance(entry, dict) or "name" not in entry or "actions" not in entry:
            raise EngineError(f"{source}: ERT.tables[{i}] needs 'name' and 'actions'")
        best = 0.0
        for j, action in enumerate(entry["actions"] or []):
            if not isinstance(action, dict) or "energy" not in action:
                raise EngineError(f"{source}: ERT.tables[{i}].actions[{j}] has no 'energy'")
            try:
                best = max(best, float(action["energy"]))
            except (TypeError, ValueError):
                raise EngineError(f"{source}: ERT.tables[{i}].actions[{j}].energy is not a number") from None
        name = component_base_name(entry["name"])
        if name in WIRE_COMPONENTS:
            raise EngineError(f"{source}: ERT.tables[{i}] ({entry['name']}) is a wire: network energy "
                              "is not modelled by the embedded engine (its networks cost 0 pJ)")
        energies[name] = best
    return EnergyTable(energies, source)
