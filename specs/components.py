"""Accelergy's view of an arch directory (the reader the energy-table generators use; specs.arch reads the same
files as Timeloop's levels): what an Accelergy v0.3 arch directory says about its components: `arch.yaml`
flattened into (full name, class, attributes) and the compound classes of `components/*.yaml`, plus the small
attribute-expression language the
compound classes use (`width: log(memory_depth)`).

Names follow Accelergy's ERT: `system.eyeriss.PE[0..71].mac` (the path of sub-tree names, instance ranges kept).
An instance's attributes are the attributes inherited down the tree, then its own, then (for a compound class)
the class defaults under both. Errors name the file and the component.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError
from .io import read_yaml

ARCH_FILE = "arch.yaml"
COMPONENTS_DIR = "components"
RANGE = re.compile(r"^(?P<base>[^\[\]]+)(\[(?P<lo>\d+)(\.\.(?P<hi>\d+))?\])?$")


@dataclass(frozen=True)
class Component:
    """One `local` entry of arch.yaml: full ERT name, class and effective attributes."""

    name: str
    cls: str
    attributes: dict[str, Any]


def compound_classes(arch_dir: Path) -> dict[str, dict]:
    """{class name: class spec} from `arch_dir/components/*.yaml` (Accelergy v0.3 `compound_components`)."""
    classes: dict[str, dict] = {}
    for path in sorted((Path(arch_dir) / COMPONENTS_DIR).glob("*.yaml")):
        spec = read_yaml(path, "compound component classes") or {}
        entries = (spec.get("compound_components") or {}).get("classes") if isinstance(spec, dict) else None
        for i, cls in enumerate(entries or []):
            if not isinstance(cls, dict) or not isinstance(cls.get("name"), str):
                raise SpecError(f"{path}: compound_components.classes[{i}] needs a 'name'")
            if cls["name"] in classes:
                raise SpecError(f"{path}: compound class {cls['name']!r} is defined twice in {COMPONENTS_DIR}/")
            classes[cls["name"]] = {**cls, "_source": str(path)}
    return classes


def _walk(node: dict, prefix: str, inherited: dict, source: Path) -> Iterator[Component]:
    attributes = {**inherited, **(node.get("attributes") or {})}
    name = f"{prefix}.{node['name']}" if prefix and "name" in node else node.get("name", prefix)
    for i, local in enumerate(node.get("local") or []):
        if not isinstance(local, dict) or "name" not in local or "class" not in local:
            raise SpecError(f"{source}: {name or 'architecture'}.local[{i}] needs a 'name' and a 'class'")
        full = f"{name}.{local['name']}" if name else str(local["name"])
        yield Component(full, str(local["class"]), {**attributes, **(local.get("attributes") or {})})
    for child in node.get("subtree") or []:
        yield from _walk(child, name, attributes, source)


def arch_components(arch: Path) -> list[Component]:
    """Every component of an arch (a directory holding arch.yaml, or the arch YAML itself; compound classes from
    components/*.yaml beside it), attributes inherited down the tree and compound class defaults applied."""
    arch = Path(arch)
    path = arch / ARCH_FILE if arch.is_dir() else arch
    data = read_yaml(path, "architecture YAML")
    spec = data.get("architecture") if isinstance(data, dict) else None
    if not isinstance(spec, dict) or not isinstance(spec.get("subtree"), list):
        raise SpecError(f"{path}: expected 'architecture:' with a 'subtree' list (Timeloop/Accelergy v0.3)")
    classes = compound_classes(path.parent)
    found = []
    for root in spec["subtree"]:
        for component in _walk(root, "", {}, path):
            defaults = (classes.get(component.cls) or {}).get("attributes") or {}
            found.append(Component(component.name, component.cls, {**defaults, **component.attributes}))
    names = [c.name for c in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SpecError(f"{path}: component {duplicates[0]} is defined twice")
    return found


def instance_range(name: str, where: str) -> tuple[str, int, int]:
    """`address_generators[0..1]` -> ("address_generators", 0, 1); `x[1]` -> ("x", 1, 1); `storage` -> (.., 0, 0)."""
    match = RANGE.match(name.strip())
    if not match:
        raise SpecError(f"{where}: cannot read the name {name!r} (expected NAME, NAME[i] or NAME[lo..hi])")
    lo = int(match["lo"] or 0)
    hi = int(match["hi"]) if match["hi"] is not None else lo
    if hi < lo:
        raise SpecError(f"{where}: instance range of {name!r} is empty")
    return match["base"], lo, hi


# ---- attribute expressions --------------------------------------------------------------------------------------


def _log(value: float) -> int:
    # Accelergy 0.3 reads `log(x)` as its only log operator, log2 rounded up: the bits needed to address x rows.
    return max(1, math.ceil(math.log2(value)))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "log": _log,
    "log2": math.log2,
    "ceil": math.ceil,
    "floor": math.floor,
    "round": round,
    "min": min,
    "max": max,
    "abs": abs,
    "int": int,
}
OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


def evaluate(expression: Any, bindings: dict[str, Any], where: str) -> Any:
    """A literal, an attribute name, or arithmetic over them (+ - * / // % **, log/log2/ceil/floor/round/min/max)."""
    if not isinstance(expression, str):
        return expression
    if expression in bindings:
        return bindings[expression]
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return expression  # a plain string value such as `45nm` or `LPDDR4`

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in bindings:
                raise SpecError(
                    f"{where}: {expression!r} names {node.id!r}, which is not an attribute here "
                    f"(attributes: {', '.join(sorted(bindings))})"
                )
            return bindings[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            return OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and not node.keywords
        ):
            return FUNCTIONS[node.func.id](*(value(arg) for arg in node.args))
        raise SpecError(
            f"{where}: cannot evaluate {expression!r} (only attribute names, numbers, "
            f"+ - * / // % ** and {', '.join(FUNCTIONS)})"
        )

    if isinstance(tree.body, ast.Name) and tree.body.id not in bindings:
        return expression  # a bare word that is not an attribute: a string value
    try:
        return value(tree.body)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise SpecError(f"{where}: cannot evaluate {expression!r}: {exc}") from None


def argument_ranges(ranges: dict[str, Any] | None, attributes: dict, where: str) -> list[dict[str, int] | None]:
    """Every combination of `{name: "lo..hi"}` (bounds may be attribute expressions), names sorted, the last
    varying fastest, as Accelergy lists them; [None] for an action without arguments."""
    if not ranges:
        return [None]
    names = sorted(ranges)
    axes = []
    for name in names:
        low, sep, high = str(ranges[name]).partition("..")
        if not sep:
            raise SpecError(f"{where}: argument {name}: expected a range lo..hi, got {ranges[name]!r}")
        bounds = [evaluate(bound.strip(), attributes, f"{where}: argument {name}") for bound in (low, high)]
        if not all(isinstance(b, (int, float)) and float(b).is_integer() for b in bounds):
            raise SpecError(f"{where}: argument {name}: bounds {ranges[name]!r} are not whole numbers here ({bounds})")
        axes.append(range(int(bounds[0]), int(bounds[1]) + 1))
    combos: list[dict[str, int]] = [{}]
    for name, axis in zip(names, axes, strict=True):
        combos = [{**c, name: v} for c in combos for v in axis]
    return [*combos]
