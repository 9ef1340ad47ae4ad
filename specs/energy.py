"""Accelergy tables: energy (`ERT.yaml`, `ERT_summary.yaml`) and area (`ART.yaml`, `ART_summary.yaml`): the one
reader (and writer) of energy and area tables, used by the engines, the presets and the table generators.

Which table an architecture directory uses (`find_energy_table` / `find_area_table`): a user's Accelergy `ERT.yaml`
(`ART.yaml`) first, else the one fuseloop ships (`ERT.fuseloop.yaml`, `ART.fuseloop.yaml`).

Component names are kept as written (`system.eyeriss.PE[0..71].mac`). Every
lookup also accepts the name without instance ranges (`system.eyeriss.PE.mac`)
or the component's short name, its last segment without the range (`mac`,
`shared_glb`, `DummyBuffer`); an ambiguous short name is an error.

    ert = load_ert("arch/eyeriss/ERT.yaml")
    ert.energy("mac", "mac_random")                                   # 2.2 pJ
    ert.energy("ifmap_spad", "read", address_delta=1, data_delta=1)   # one argument combination
    ert.max_energy("shared_glb", "write")                             # max over argument combinations
    ert.max_energy("shared_glb")                                      # max over all actions

Lookups that find nothing raise `KeyError` with a one-line message naming the
table file and what is available. Energies are pJ per action, areas um^2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SpecError
from .io import parse_yaml

RANGE_RE = re.compile(r"\[[^\]]*\]")
# A user's Accelergy table next to the arch takes precedence over the one fuseloop ships (the paper's figures); a
# derived table (estimation/, written by the workflow into a copy of the arch under results/archs/) comes last.
ERT_FILE_NAMES = ("ERT.yaml", "ERT.fuseloop.yaml", "ERT.derived.yaml")
ART_FILE_NAMES = ("ART.yaml", "ART.fuseloop.yaml", "ART.derived.yaml")
USER_TABLES = ("ERT.yaml", "ART.yaml")


def strip_ranges(name: str) -> str:
    """`system.eyeriss.PE[0..71].mac` -> `system.eyeriss.PE.mac`."""
    return RANGE_RE.sub("", name)


def short_name(name: str) -> str:
    """`system.eyeriss.PE[0..71].mac` -> `mac`; `system.eyeriss.DummyBuffer[0..7]` -> `DummyBuffer`."""
    return strip_ranges(name).split(".")[-1]


def _resolve(names: list[str] | dict, component: str, source: str) -> str:
    if component in names:
        return component
    for key in (strip_ranges, short_name):
        matches = [name for name in names if key(name) == component]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise KeyError(f"{source}: component name {component!r} is ambiguous: {matches}")
    raise KeyError(f"{source}: no component {component!r}; components are {[short_name(n) for n in names]}")


@dataclass(frozen=True)
class ActionEnergy:
    """One row of an energy table: an action with one argument combination.

    From `ERT.yaml`, `energy_pJ == max_pJ == min_pJ`. From `ERT_summary.yaml`
    (no per-argument rows) `energy_pJ` is Accelergy's average_energy and
    max/min its max_energy/min_energy.
    """

    action: str
    arguments: tuple[tuple[str, Any], ...]
    energy_pJ: float
    max_pJ: float
    min_pJ: float

    def matches(self, arguments: dict[str, Any]) -> bool:
        own = dict(self.arguments)
        return all(key in own and own[key] == value for key, value in arguments.items())


@dataclass
class EnergyTable:
    """Energy per action (pJ) per component, as in an Accelergy ERT."""

    components: dict[str, dict[str, list[ActionEnergy]]] = field(default_factory=dict)
    source: str = ""
    summary: bool = False  # read from ERT_summary.yaml (averages, no per-argument rows)

    def names(self) -> list[str]:
        """Component names as written in the table."""
        return list(self.components)

    def resolve(self, component: str) -> str:
        """The table's name for `component` (full name, name without ranges, or short name)."""
        return _resolve(list(self.components), component, self.source)

    def actions(self, component: str) -> dict[str, list[ActionEnergy]]:
        return self.components[self.resolve(component)]

    def rows(self, component: str, action: str) -> list[ActionEnergy]:
        actions = self.actions(component)
        if action not in actions:
            raise KeyError(
                f"{self.source}: component {self.resolve(component)!r} has no action {action!r}; "
                f"actions are {list(actions)}"
            )
        return actions[action]

    def energy(self, component: str, action: str, **arguments: Any) -> float:
        """pJ of one `action` of `component` for one argument combination.

        Without arguments the action must have a single row (or the table is a
        summary, which gives the average); otherwise pass the arguments, e.g.
        `address_delta=1, data_delta=1`, or use `max_energy`.
        """
        rows = self.rows(component, action)
        matching = [row for row in rows if row.matches(arguments)]
        if len(matching) == 1:
            return matching[0].energy_pJ
        where = f"{self.source}: {self.resolve(component)}.{action}"
        if not matching:
            raise KeyError(
                f"{where} has no row with arguments {arguments}; rows have {[dict(row.arguments) for row in rows]}"
            )
        raise KeyError(
            f"{where} has {len(matching)} rows matching {arguments or 'no arguments'}; "
            f"give the arguments {sorted({k for row in matching for k, _ in row.arguments})} "
            "or use max_energy()"
        )

    def max_energy(self, component: str, action: str | None = None) -> float:
        """Largest pJ over the argument combinations of `action` (or over all actions when None).

        Over all actions this is Timeloop's (2021) vector access energy for a
        buffer, or its energy per operation for an arithmetic unit.
        """
        rows = self.rows(component, action) if action else [r for rs in self.actions(component).values() for r in rs]
        return max(row.max_pJ for row in rows)

    def min_energy(self, component: str, action: str) -> float:
        return min(row.min_pJ for row in self.rows(component, action))


class AreaTable(dict):
    """{component name as written: area um^2}, plus `area()` that also takes short names."""

    def __init__(self, entries: dict[str, float], source: str = ""):
        super().__init__(entries)
        self.source = source

    def resolve(self, component: str) -> str:
        return _resolve(list(self), component, self.source)

    def area(self, component: str) -> float:
        return self[self.resolve(component)]


# ---- loading --------------------------------------------------------------------


def _load_yaml(path: str | Path, what: str) -> tuple[Any, str]:
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file (expected an Accelergy {what})") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read Accelergy {what}: {exc}") from None
    if not text.strip():
        raise SpecError(f"{path}: empty file (expected an Accelergy {what})")
    return parse_yaml(text, str(path)), str(path)


def _number(value: Any, source: str, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{source}: {where}: expected a number, found {value!r}") from None


def _rows(source: str, where: str, action: dict) -> ActionEnergy:
    if not isinstance(action, dict) or "name" not in action:
        raise SpecError(f"{source}: {where}: an action needs a 'name'")
    arguments = action.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise SpecError(f"{source}: {where}.{action['name']}.arguments: expected a mapping or null")
    where = f"{where}.{action['name']}"
    if "energy" in action:
        energy = _number(action["energy"], source, f"{where}.energy")
        low = high = energy
    elif "average_energy" in action:
        energy = _number(action["average_energy"], source, f"{where}.average_energy")
        high = _number(action.get("max_energy", energy), source, f"{where}.max_energy")
        low = _number(action.get("min_energy", energy), source, f"{where}.min_energy")
    else:
        raise SpecError(f"{source}: {where}: no 'energy' (or 'average_energy')")
    return ActionEnergy(str(action["name"]), tuple(sorted(arguments.items())), energy, high, low)


def load_ert(path: str | Path) -> EnergyTable:
    """Read an Accelergy `ERT.yaml` (top key `ERT`, list `tables`) or `ERT_summary.yaml`
    (top key `ERT_summary`, list `table_summary`)."""
    return parse_ert(*_load_yaml(path, "energy reference table (ERT)"))


def parse_ert(data: Any, source: str = "<ERT>") -> EnergyTable:
    """An already-loaded ERT / ERT_summary document."""
    if isinstance(data, dict) and "ERT" in data:
        key, list_key, summary = "ERT", "tables", False
    elif isinstance(data, dict) and "ERT_summary" in data:
        key, list_key, summary = "ERT_summary", "table_summary", True
    else:
        raise SpecError(f"{source}: neither an 'ERT' nor an 'ERT_summary' top-level key")
    entries = (data[key] or {}).get(list_key) if isinstance(data[key], dict) else None
    if not isinstance(entries, list):
        raise SpecError(f"{source}: {key}.{list_key}: missing or not a list")
    table = EnergyTable(source=source, summary=summary)
    for i, entry in enumerate(entries):
        where = f"{key}.{list_key}[{i}]"
        if not isinstance(entry, dict) or "name" not in entry or not isinstance(entry.get("actions"), list):
            raise SpecError(f"{source}: {where}: needs a 'name' and an 'actions' list")
        actions: dict[str, list[ActionEnergy]] = {}
        for action in entry["actions"]:
            row = _rows(source, f"{where} ({entry['name']})", action)
            actions.setdefault(row.action, []).append(row)
        table.components[str(entry["name"])] = actions
    return table


def load_art(path: str | Path) -> AreaTable:
    """Read an Accelergy `ART.yaml` (`ART.tables`) or `ART_summary.yaml` (`ART_summary.table_summary`)
    into {component: area um^2}."""
    return parse_art(*_load_yaml(path, "area reference table (ART)"))


def parse_art(data: Any, source: str = "<ART>") -> AreaTable:
    """An already-loaded ART / ART_summary document."""
    list_keys = {"ART": "tables", "ART_summary": "table_summary"}
    key = next((k for k in list_keys if isinstance(data, dict) and k in data), None)
    if key is None:
        raise SpecError(f"{source}: neither an 'ART' nor an 'ART_summary' top-level key")
    list_key = list_keys[key]
    entries = (data[key] or {}).get(list_key) if isinstance(data[key], dict) else None
    if not isinstance(entries, list):
        raise SpecError(f"{source}: {key}.{list_key}: missing or not a list")
    areas: dict[str, float] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "name" not in entry or "area" not in entry:
            raise SpecError(f"{source}: {key}.{list_key}[{i}]: needs a 'name' and an 'area'")
        areas[str(entry["name"])] = _number(entry["area"], source, f"{key}.{list_key}[{i}].area")
    return AreaTable(areas, source)


# ---- which table an architecture directory uses ------------------------------------------------------------


def _arch_directory(arch: str | Path) -> Path:
    path = Path(arch)
    return path if path.is_dir() else path.parent


def find_energy_table(arch: str | Path) -> Path:
    """The ERT an architecture (directory, or a file inside it) uses: ERT.yaml, else ERT.fuseloop.yaml."""
    directory = _arch_directory(arch)
    for name in ERT_FILE_NAMES:
        if (directory / name).is_file():
            return directory / name
    raise SpecError(
        f"{directory}: no energy reference table ({' or '.join(ERT_FILE_NAMES)}) next to the "
        "architecture (Accelergy's output format)"
    )


def find_area_table(arch: str | Path) -> Path | None:
    """The ART an architecture uses (ART.yaml, else ART.fuseloop.yaml), or None when it has none."""
    directory = _arch_directory(arch)
    return next((directory / name for name in ART_FILE_NAMES if (directory / name).is_file()), None)
