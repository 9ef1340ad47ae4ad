"""Accelergy outputs: energy reference tables (`ERT.yaml`, `ERT_summary.yaml`) and area tables (`ART.yaml`).

Component names are kept as written (`system.eyeriss.PE[0..71].mac`); lookups also accept the short name
(`mac`): the last path segment without its instance range.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .common import ParseError


def short_name(name: str) -> str:
    return name.split(".")[-1].split("[")[0]


def _load(path: str | Path) -> tuple[Any, str]:
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text()), str(path)
    except (OSError, yaml.YAMLError) as exc:
        raise ParseError(f"{path}: cannot read Accelergy table: {exc}") from None


class _ByName:
    entries: dict

    def _resolve(self, component: str) -> str:
        if component in self.entries:
            return component
        matches = [name for name in self.entries if short_name(name) == component]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise KeyError(f"{self.source}: no component {component!r}; have {sorted(self.entries)}")
        raise KeyError(f"{self.source}: short name {component!r} is ambiguous: {matches}")


@dataclass
class EnergyTable(_ByName):
    """{component: {action: [(arguments dict or None, energy pJ)]}}"""

    entries: dict[str, dict[str, list[tuple[dict | None, float]]]] = field(default_factory=dict)
    source: str = ""

    def energy(self, component: str, action: str, **arguments) -> float:
        options = self.actions(component)[action]
        for args, energy in options:
            if (args or {}) == arguments or (not arguments and len(options) == 1):
                return energy
        raise KeyError(f"{self.source}: {component}.{action} has no entry for arguments {arguments}")

    def max_energy(self, component: str, action: str | None = None) -> float:
        actions = self.actions(component)
        names = [action] if action else list(actions)
        return max(e for name in names for _, e in actions[name])

    def actions(self, component: str) -> dict[str, list[tuple[dict | None, float]]]:
        return self.entries[self._resolve(component)]


@dataclass
class AreaTable(_ByName):
    entries: dict[str, float] = field(default_factory=dict)
    source: str = ""

    def area(self, component: str) -> float:
        return self.entries[self._resolve(component)]


def load_ert(path: str | Path) -> EnergyTable:
    data, source = _load(path)
    if isinstance(data, dict) and "ERT_summary" in data:
        tables = data["ERT_summary"].get("table_summary", [])
    elif isinstance(data, dict) and "ERT" in data:
        tables = data["ERT"].get("tables", [])
    else:
        raise ParseError(f"{source}: neither an ERT nor an ERT_summary table")
    table = EnergyTable(source=source)
    for i, entry in enumerate(tables):
        if "name" not in entry or "actions" not in entry:
            raise ParseError(f"{source}: table entry {i} needs 'name' and 'actions'")
        actions: dict[str, list] = {}
        for action in entry["actions"] or []:
            energy = action.get("energy", action.get("max_energy"))
            if energy is None:
                raise ParseError(f"{source}: {entry['name']}.{action.get('name')}: no energy")
            actions.setdefault(action["name"], []).append((action.get("arguments"), float(energy)))
        table.entries[entry["name"]] = actions
    return table


def load_art(path: str | Path) -> AreaTable:
    data, source = _load(path)
    root = (data or {}).get("ART") or (data or {}).get("ART_summary")
    if not isinstance(root, dict):
        raise ParseError(f"{source}: not an ART table")
    entries = root.get("tables") or root.get("table_summary") or []
    table = AreaTable(source=source)
    for i, entry in enumerate(entries):
        if "name" not in entry or "area" not in entry:
            raise ParseError(f"{source}: table entry {i} needs 'name' and 'area'")
        table.entries[entry["name"]] = float(entry["area"])
    return table
