"""Does an energy/area table belong to its arch? Every generated table carries, inside Accelergy's `ERT:`/`ART:`
mapping (where Timeloop and Accelergy ignore it, and two tables given together do not repeat a top-level key), a
`derivation:` record of what it was computed for:

    ERT:
      version: 0.3
      tables: [...]
      derivation:
      preset: derived | paper
      regenerate: python -m estimation ARCH_DIR --preset derived       # shown in the error
      key: <sha256 of arch.yaml, components/*.yaml, preset and model versions>
      libraries: {hwcomponents: 1.0.114, ...}            # derived preset
      components:
        system.eyeriss.shared_glb: {class: smartbuffer_SRAM, attributes: {memory_depth: 13824, ...}}

`check_tables` compares that record with the arch: every arch component must be in the table with the same
class and attributes (class defaults and inherited attributes included), and the table must hold no component
the arch lacks. A table without a record (a user's Accelergy ERT.yaml) is checked by component names only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .components import arch_components
from .errors import SpecError
from .io import read_yaml

RECORD_KEY = "derivation"


class TableMismatch(SpecError):
    """A table that does not match its arch; the message names the table, the component and what differs."""


def component_record(arch: Path) -> dict[str, dict[str, Any]]:
    """{full name: {class, attributes}} of every component of the arch (directory or arch YAML), as a table
    records it."""
    return {c.name: {"class": c.cls, "attributes": dict(c.attributes)} for c in arch_components(arch)}


def recorded(data: Any) -> dict | None:
    """The `derivation` record of an ERT/ART document, or None (a user's Accelergy table has none)."""
    for key in ("ERT", "ART"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            record = data[key].get(RECORD_KEY)
            return record if isinstance(record, dict) else None
    return None


def _table_names(data: dict) -> list[str]:
    for key, list_key in (("ERT", "tables"), ("ART", "tables")):
        if isinstance(data.get(key), dict) and isinstance(data[key].get(list_key), list):
            return [str(entry.get("name")) for entry in data[key][list_key] if isinstance(entry, dict)]
    return []


def _differences(made_for: dict, now: dict) -> list[str]:
    keys = sorted(set(made_for) | set(now))
    return [
        f"{key} {made_for.get(key, '(unset)')!s} -> arch says {now.get(key, '(unset)')!s}"
        for key in keys
        if made_for.get(key, "(unset)") != now.get(key, "(unset)")
    ]


def check_record(arch_dir: Path, data: Any, source: str) -> None:
    """Raise TableMismatch naming the first component whose table entry was not made for the arch `arch_dir`
    (a directory holding arch.yaml, or the arch YAML itself)."""
    if not isinstance(data, dict):
        raise TableMismatch(f"{source}: not an Accelergy ERT/ART document")
    record = recorded(data)
    arch = component_record(Path(arch_dir))
    arch_dir = Path(arch_dir) if Path(arch_dir).is_dir() else Path(arch_dir).parent
    command = record.get("regenerate") if isinstance(record, dict) else None
    hint = f"regenerate it: {str(command or 'python -m estimation ARCH_DIR').replace('ARCH_DIR', str(arch_dir))}"
    if not isinstance(record, dict):  # a user's Accelergy table: names only
        names = set(_table_names(data))
        for name in arch:
            if name not in names and not arch[name]["class"].lower().startswith("wire"):
                raise TableMismatch(f"{source}: has no entry for component {name} of {arch_dir}/arch.yaml")
        return
    made_for = record.get("components") or {}
    for name, now in arch.items():
        if name not in made_for:
            raise TableMismatch(
                f"{source}: has no entry for component {name} of {arch_dir}/arch.yaml (made for another arch); {hint}"
            )
        entry = made_for[name]
        if entry.get("class") != now["class"]:
            raise TableMismatch(
                f"{source}: component {name} was costed as class {entry.get('class')!r}, "
                f"arch.yaml says {now['class']!r}; {hint}"
            )
        changed = _differences(entry.get("attributes") or {}, now["attributes"])
        if changed:
            raise TableMismatch(
                f"{source}: component {name} was costed for other attributes ({'; '.join(changed)}); {hint}"
            )
    extra = sorted(set(made_for) - set(arch))
    if extra:
        raise TableMismatch(
            f"{source}: component {extra[0]} is not in {arch_dir}/arch.yaml (made for another arch); {hint}"
        )


def check_generated_table(arch: str | Path, table: str | Path) -> None:
    """Refuse a generated table (one with a record: ERT.fuseloop.yaml, ERT.derived.yaml) that was not made for
    `arch`; a user's Accelergy table (no record) is left to the engine's own per-level lookups."""
    data = read_yaml(table, "energy/area table")
    if recorded(data) is not None:
        check_record(Path(arch), data, str(table))


def check_tables(arch_dir: str | Path, *tables: str | Path) -> None:
    """Refuse (TableMismatch) any of the ERT/ART files `tables` that was not made for the arch in `arch_dir`."""
    for table in tables:
        path = Path(table)
        try:
            data = read_yaml(path, "energy/area table")
        except SpecError as exc:
            raise TableMismatch(str(exc)) from None
        check_record(Path(arch_dir), data, str(path))
