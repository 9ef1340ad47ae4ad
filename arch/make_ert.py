"""Write an architecture's energy and area tables (Accelergy's ERT/ART format) from arch/energy/*.yaml.

    python arch/make_ert.py arch/eyeriss       # writes arch/eyeriss/ERT.fuseloop.yaml and ART.fuseloop.yaml
    python arch/make_ert.py                    # the shipped archs (eyeriss, archon/predictions[-128KiB], archon/main)
    python arch/make_ert.py --check [DIR...]   # exit 1 if a committed table differs from what would be written

The ERT lists every action and argument combination, as Accelergy prints them; the argument ranges of compound
classes (`data_delta: 0..1`, `address_delta: 0..n_banks`) are read from the arch's components/*.yaml.

A component whose class and attributes have no entry in the table is an error naming it: add its figures
(e.g. from an Accelergy run) or drop an Accelergy-generated ERT.yaml into the arch directory: it takes
precedence over ERT.fuseloop.yaml in both the embedded engine and the Timeloop backends.
"""
from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any, Iterator

import yaml

HERE = Path(__file__).resolve().parent
TABLE = HERE / "energy" / "accelergy-45nm-16bit.yaml"
SHIPPED = (HERE / "eyeriss", HERE / "archon" / "predictions", HERE / "archon" / "predictions-128KiB",
           HERE / "archon" / "main")
ERT_OUTPUT = "ERT.fuseloop.yaml"
ART_OUTPUT = "ART.fuseloop.yaml"
DECIMALS = 3  # Accelergy prints energies rounded to 3 decimals


class TableError(ValueError):
    """An architecture that the energy table cannot cost; the message names the file and component."""


def components(node: dict, prefix: str = "") -> Iterator[tuple[str, str, dict]]:
    """(full name, class, attributes) of every local component, attributes inherited down the tree."""
    inherited = dict(node.get("attributes") or {})
    name = f"{prefix}.{node['name']}" if prefix and "name" in node else node.get("name", prefix)
    for local in node.get("local") or []:
        yield f"{name}.{local['name']}" if name else local["name"], local["class"], {**inherited, **(local.get("attributes") or {})}
    for child in node.get("subtree") or []:
        child = {**child, "attributes": {**inherited, **(child.get("attributes") or {})}}
        yield from components(child, name)


def compound_classes(arch_dir: Path) -> dict[str, dict]:
    """{class name: class spec} from the arch directory's components/*.yaml."""
    classes = {}
    for path in sorted((arch_dir / "components").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text()) or {}
        for cls in (spec.get("compound_components") or {}).get("classes") or []:
            classes[cls["name"]] = cls
    return classes


def _bound(value: Any, attributes: dict, where: str) -> int:
    value = attributes.get(value, value) if isinstance(value, str) else value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TableError(f"{where}: argument bound {value!r} is neither a number nor a numeric attribute") from None


def argument_combinations(ranges: dict[str, str] | None, attributes: dict, where: str) -> list[dict[str, int] | None]:
    """Every combination of `{name: "lo..hi"}` ranges (hi may name an attribute), names sorted, last varying fastest."""
    if not ranges:
        return [None]
    names = sorted(ranges)
    axes = []
    for name in names:
        low, sep, high = str(ranges[name]).partition("..")
        if not sep:
            raise TableError(f"{where}: argument {name}: expected a range lo..hi, got {ranges[name]!r}")
        axes.append(range(_bound(low, attributes, where), _bound(high, attributes, where) + 1))
    return [dict(zip(names, values)) for values in itertools.product(*axes)]


def _find_entry(table: list[dict], cls: str, attributes: dict, where: str) -> dict:
    candidates = [entry for entry in table if entry["class"] == cls]
    for entry in candidates:
        if all(attributes.get(key) == value for key, value in entry["match"].items()):
            return entry
    if not candidates:
        raise TableError(f"{where}: class {cls!r} has no entry in {TABLE.name}")
    keys = sorted({key for entry in candidates for key in entry["match"]})
    have = {key: attributes.get(key) for key in keys}
    raise TableError(f"{where}: no {cls} entry in {TABLE.name} for {have}; add its Accelergy figures or "
                     f"provide an Accelergy ERT.yaml")


def _action_energy(figures: Any, arguments: dict[str, int] | None, maxima: dict[str, int], where: str) -> float:
    if not isinstance(figures, dict):
        return round(float(figures), DECIMALS)
    if arguments is None:
        raise TableError(f"{where}: storage figures need address_delta/data_delta arguments")
    address_share = arguments["address_delta"] / maxima["address_delta"] if maxima["address_delta"] else 0.0
    energy = figures["base"] + arguments["data_delta"] * figures["data"] + address_share * figures["address"]
    return round(energy, DECIMALS)


def tables_for(arch_dir: Path, table: dict) -> tuple[dict, dict]:
    """(ERT, ART) documents for the arch in `arch_dir`."""
    arch_file = arch_dir / "arch.yaml"
    spec = yaml.safe_load(arch_file.read_text())["architecture"]
    classes = compound_classes(arch_dir)
    ert, art = [], []
    for root in spec.get("subtree") or []:
        for full_name, cls, attrs in components(root):
            where = f"{arch_file}: component {full_name}"
            compound = classes.get(cls)
            attributes = {**((compound or {}).get("attributes") or {}), **attrs}
            if attributes.get("technology", table["technology"]) != table["technology"]:
                raise TableError(f"{where}: technology {attributes['technology']!r}, the table is {table['technology']}")
            entry = _find_entry(table["components"], cls, attributes, where)
            ranges = {a["name"]: a.get("arguments") for a in (compound or {}).get("actions") or []}
            order = list(ranges) if compound else list(entry["actions"])
            actions = []
            for action in order:
                if action not in entry["actions"]:
                    raise TableError(f"{where}: action {action!r} has no figures in {TABLE.name}")
                arg_ranges = ranges.get(action) if compound else (entry.get("arguments") if isinstance(entry["actions"][action], dict) else None)
                combos = argument_combinations(arg_ranges, attributes, f"{where}.{action}")
                maxima = {name: max(c[name] for c in combos) for name in (combos[0] or {})}
                for arguments in combos:
                    energy = _action_energy(entry["actions"][action], arguments, maxima, f"{where}.{action}")
                    actions.append({"name": action, "arguments": arguments, "energy": energy})
            ert.append({"name": full_name, "actions": actions})
            art.append({"name": full_name, "area": float(entry["area"])})
    return {"ERT": {"version": 0.3, "tables": ert}}, {"ART": {"version": 0.3, "tables": art}}


def rendered(arch_dir: Path) -> dict[str, str]:
    """{file name: text} of the two tables for `arch_dir`."""
    table = yaml.safe_load(TABLE.read_text())
    ert, art = tables_for(arch_dir, table)
    header = f"# Generated by arch/make_ert.py from arch/energy/{TABLE.name}; do not edit by hand.\n"
    return {ERT_OUTPUT: header + yaml.safe_dump(ert, sort_keys=False),
            ART_OUTPUT: header + yaml.safe_dump(art, sort_keys=False)}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    dirs = [Path(a) for a in argv if a != "--check"] or list(SHIPPED)
    stale = []
    for arch_dir in dirs:
        try:
            texts = rendered(arch_dir)
        except TableError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for name, text in texts.items():
            path = arch_dir / name
            if check:
                if not path.is_file() or path.read_text() != text:
                    stale.append(path)
                continue
            path.write_text(text)
            print(f"wrote {path}")
    for path in stale:
        print(f"stale: {path} (run python arch/make_ert.py {path.parent})", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
