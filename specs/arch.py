"""Timeloop v0.3 architecture specs -> `ArchSpec` (storage levels + the arithmetic level).

Two layouts are read:

* hierarchical: ``architecture: {subtree: [{name: system, local: [...], subtree: [...]}]}``;
  names may carry instance ranges (``PE[0..71]``), tree ``attributes`` are inherited
  by everything below them (as Accelergy does; locals override);
* flattened (Accelergy's ``flattened_architecture.yaml``):
  ``architecture: {local: [{name: system.eyeriss.PE[0..63].ifmap_spad, class, attributes}, ...]}``.

Storage levels are ordered like Timeloop numbers them: innermost first. Attribute
names and defaults follow Timeloop's buffer/arithmetic spec parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from math import prod
from pathlib import Path
from typing import Any

from .errors import SpecError
from .io import read_yaml

# Timeloop's default word width (bits) when a component gives none.
DEFAULT_WORD_BITS = 16

# Component classes, matched by substring the way Timeloop classifies them.
STORAGE_CLASS_KEYS = ("DRAM", "SRAM", "regfile", "smartbuffer")
COMPUTE_CLASS_KEYS = ("mac", "compute")

ARCH_FILE_NAMES = ("arch.yaml", "architecture.yaml", "flattened_architecture.yaml")

_RANGE = re.compile(r"^(?P<base>[^\[\]]+)(\[(?P<lo>\d+)\.\.(?P<hi>\d+)\])?$")


@dataclass(frozen=True)
class StorageSpec:
    """One buffer level (per-instance sizes in words)."""

    name: str
    cls: str
    instances: int
    mesh_x: int
    mesh_y: int
    word_bits: int
    block_size: int
    cluster_size: int
    size: int | None  # words; None = unbounded (e.g. DRAM)
    technology: str  # "SRAM" or "DRAM"
    read_bandwidth: float | None  # words/cycle per instance; None = unlimited
    write_bandwidth: float | None
    multiple_buffering: float = 1.0
    min_utilization: float = 0.0

    @property
    def effective_size(self) -> int | None:
        return None if self.size is None else int(self.size // self.multiple_buffering)


@dataclass(frozen=True)
class ArithmeticSpec:
    name: str
    cls: str
    instances: int
    mesh_x: int
    mesh_y: int
    word_bits: int


@dataclass(frozen=True)
class ArchSpec:
    arithmetic: ArithmeticSpec
    storage: tuple[StorageSpec, ...]  # innermost (Timeloop level 1) first
    source: str = ""

    def storage_index(self, name: str) -> int:
        for i, level in enumerate(self.storage):
            if level.name == name:
                return i
        raise SpecError(
            f"{self.source}: architecture has no storage level {name!r}; "
            f"levels are {[lvl.name for lvl in self.storage]}"
        )

    @property
    def level_names(self) -> tuple[str, ...]:
        """Timeloop numbering: 0 = arithmetic, then storage innermost first."""
        return (self.arithmetic.name,) + tuple(level.name for level in self.storage)


# ---------------------------------------------------------------- loading


def find_arch_file(arch: str | Path) -> Path:
    """The architecture YAML inside an arch directory (or the file itself)."""
    path = Path(arch)
    if path.is_file():
        return path
    if path.is_dir():
        for name in ARCH_FILE_NAMES:
            if (path / name).is_file():
                return path / name
        raise SpecError(f"{path}: no architecture file ({' or '.join(ARCH_FILE_NAMES)}) in this directory")
    raise SpecError(f"{path}: architecture path does not exist")


def load_arch(arch: str | Path) -> ArchSpec:
    """Load an architecture from a directory (arch.yaml or flattened_architecture.yaml) or a YAML file."""
    path = find_arch_file(arch)
    return parse_arch(read_yaml(path, "architecture YAML"), source=str(path))


def parse_arch(data: Any, source: str = "<arch>") -> ArchSpec:
    if not isinstance(data, dict) or not isinstance(data.get("architecture"), dict):
        raise SpecError(f"{source}: missing top-level 'architecture' mapping")
    root = data["architecture"]
    if "subtree" in root:
        components = _walk_tree(root, source)
    elif "local" in root:
        components = _walk_flat(root["local"], source)
    else:
        raise SpecError(f"{source}: architecture has neither 'subtree' nor 'local'")
    return _build(components, source)


@dataclass(frozen=True)
class _Component:
    name: str  # base name without range
    cls: str
    attributes: dict
    instances: int  # from the name ranges along the path


def _split_name(name: str, source: str, field: str) -> tuple[str, int]:
    match = _RANGE.match(str(name).strip())
    if not match:
        raise SpecError(f"{source}: {field}: cannot parse component name {name!r}")
    lo, hi = match.group("lo"), match.group("hi")
    count = 1 if lo is None else int(hi) - int(lo) + 1
    if count < 1:
        raise SpecError(f"{source}: {field}: empty instance range in {name!r}")
    return match.group("base"), count


def split_path(name: str) -> list[str]:
    """``system.eyeriss.PE[0..71].mac`` -> ``['system', 'eyeriss', 'PE[0..71]', 'mac']``."""
    parts: list[str] = []
    for piece in str(name).split("."):
        if parts and parts[-1].count("[") > parts[-1].count("]"):
            parts[-1] += "." + piece
        else:
            parts.append(piece)
    return parts


def _walk_tree(root: dict, source: str) -> list[_Component]:
    """Outermost-first component list of a hierarchical spec."""
    out: list[_Component] = []
    node, field, multiplicity = root, "architecture", 1
    inherited: dict[str, Any] = {}
    while "subtree" in node:
        subtrees = node["subtree"]
        if not isinstance(subtrees, list) or len(subtrees) != 1:
            raise SpecError(
                f"{source}: {field}.subtree must hold exactly one sub-tree (Timeloop supports one per level)"
            )
        node, field = subtrees[0], f"{field}.subtree[0]"
        if not isinstance(node, dict) or "name" not in node:
            raise SpecError(f"{source}: {field} needs a 'name'")
        _, count = _split_name(node["name"], source, f"{field}.name")
        multiplicity *= count
        inherited = {**inherited, **(node.get("attributes") or {})}
        for c, comp in enumerate(node.get("local") or []):
            cfield = f"{field}.local[{c}]"
            if not isinstance(comp, dict) or "name" not in comp or "class" not in comp:
                raise SpecError(f"{source}: {cfield} needs 'name' and 'class'")
            base, local_count = _split_name(comp["name"], source, f"{cfield}.name")
            attrs = {**inherited, **(comp.get("attributes") or {})}
            out.append(_Component(base, str(comp["class"]), attrs, multiplicity * local_count))
    return out


def _walk_flat(local: Any, source: str) -> list[_Component]:
    """Outermost-first component list of a flattened spec (dotted, ranged names)."""
    if not isinstance(local, list):
        raise SpecError(f"{source}: architecture.local must be a list")
    groups: dict[tuple[str, ...], list[_Component]] = {}
    for c, comp in enumerate(local):
        field = f"architecture.local[{c}]"
        if not isinstance(comp, dict) or "name" not in comp or "class" not in comp:
            raise SpecError(f"{source}: {field} needs 'name' and 'class'")
        parts = split_path(comp["name"])
        counts = [_split_name(p, source, f"{field}.name")[1] for p in parts]
        base = _split_name(parts[-1], source, f"{field}.name")[0]
        groups.setdefault(tuple(parts[:-1]), []).append(
            _Component(base, str(comp["class"]), dict(comp.get("attributes") or {}), prod(counts))
        )
    paths = sorted(groups, key=len)
    for outer, inner in pairwise(paths):
        if len(outer) == len(inner) or inner[: len(outer)] != outer:
            raise SpecError(
                f"{source}: flattened architecture is not a single chain of sub-trees "
                f"({'.'.join(outer)} vs {'.'.join(inner)})"
            )
    return [comp for path in paths for comp in groups[path]]


def _classify(cls: str) -> str | None:
    if any(key in cls for key in STORAGE_CLASS_KEYS):
        return "storage"
    if any(key in cls for key in COMPUTE_CLASS_KEYS):
        return "compute"
    return None


def _build(components: list[_Component], source: str) -> ArchSpec:
    storage_outer_first: list[StorageSpec] = []
    arithmetic: ArithmeticSpec | None = None
    for comp in components:
        kind = _classify(comp.cls)
        if kind == "storage":
            storage_outer_first.append(_storage_spec(comp, source))
        elif kind == "compute":
            if arithmetic is not None:
                raise SpecError(
                    f"{source}: level {comp.name!r}: a second arithmetic component (already have {arithmetic.name!r})"
                )
            arithmetic = _arithmetic_spec(comp, source)
        else:
            raise SpecError(
                f"{source}: level {comp.name!r}: unknown component class {comp.cls!r} "
                f"(storage classes contain one of {STORAGE_CLASS_KEYS}, "
                f"compute classes one of {COMPUTE_CLASS_KEYS})"
            )
    if arithmetic is None:
        raise SpecError(f"{source}: architecture has no arithmetic (mac) component")
    if not storage_outer_first:
        raise SpecError(f"{source}: architecture has no storage levels")
    storage = tuple(reversed(storage_outer_first))
    for inner, outer in pairwise((arithmetic,) + storage):
        if inner.instances % outer.instances:
            raise SpecError(
                f"{source}: level {outer.name!r}: {outer.instances} instances do not divide "
                f"the {inner.instances} instances of {inner.name!r}"
            )
    return ArchSpec(arithmetic, storage, source)


def _attr(attrs: dict, keys: tuple[str, ...], source: str, level: str, cast=int):
    for key in keys:
        if key in attrs and attrs[key] is not None:
            try:
                return cast(attrs[key])
            except (TypeError, ValueError):
                raise SpecError(
                    f"{source}: level {level!r}: attribute {key!r} must be a number, got {attrs[key]!r}"
                ) from None
    return None


def _mesh(instances: int, attrs: dict, source: str, level: str) -> tuple[int, int]:
    mesh_x = _attr(attrs, ("meshX",), source, level)
    mesh_y = _attr(attrs, ("meshY",), source, level)
    if mesh_x is None and mesh_y is None:
        return instances, 1
    if mesh_x is None:
        mesh_x = instances // mesh_y
    if mesh_y is None:
        mesh_y = instances // mesh_x
    if mesh_x * mesh_y != instances:
        raise SpecError(f"{source}: level {level!r}: meshX*meshY ({mesh_x}*{mesh_y}) != instances ({instances})")
    return mesh_x, mesh_y


def _storage_spec(comp: _Component, source: str) -> StorageSpec:
    a, n = comp.attributes, comp.name
    word_bits = _attr(a, ("word-bits", "word_width", "datawidth"), source, n) or DEFAULT_WORD_BITS
    block_size = _attr(a, ("block-size", "n_words"), source, n) or 1
    cluster_size = _attr(a, ("cluster-size",), source, n)
    if cluster_size is None:
        width = _attr(a, ("width",), source, n)
        if width is None:
            cluster_size = 1
        else:
            if width % (word_bits * block_size):
                raise SpecError(
                    f"{source}: level {n!r}: width {width} is not a multiple of "
                    f"word-bits*block-size ({word_bits}*{block_size})"
                )
            cluster_size = width // (word_bits * block_size)
    size = _attr(a, ("entries",), source, n)
    if size is None:
        depth = _attr(a, ("depth", "memory_depth"), source, n)
        if depth is not None:
            size = depth * block_size
        else:
            size_kb = _attr(a, ("sizeKB",), source, n)
            if size_kb is not None:
                size = size_kb * 1024 * 8 // word_bits
    technology = "DRAM" if comp.cls == "DRAM" or a.get("technology") == "DRAM" else "SRAM"
    read_bw = _attr(a, ("read_bandwidth",), source, n, float)
    write_bw = _attr(a, ("write_bandwidth",), source, n, float)
    if read_bw is None and write_bw is None:
        bandwidth = _attr(a, ("bandwidth",), source, n, float)
        if bandwidth is not None:  # Timeloop: deprecated, split evenly
            read_bw = write_bw = bandwidth / 2
    instances = _attr(a, ("instances",), source, n) or comp.instances
    mesh_x, mesh_y = _mesh(instances, a, source, n)
    return StorageSpec(
        name=n,
        cls=comp.cls,
        instances=instances,
        mesh_x=mesh_x,
        mesh_y=mesh_y,
        word_bits=word_bits,
        block_size=block_size,
        cluster_size=cluster_size,
        size=size,
        technology=technology,
        read_bandwidth=read_bw,
        write_bandwidth=write_bw,
        multiple_buffering=_attr(a, ("multiple-buffering",), source, n, float) or 1.0,
        min_utilization=_attr(a, ("min-utilization",), source, n, float) or 0.0,
    )


def _arithmetic_spec(comp: _Component, source: str) -> ArithmeticSpec:
    a, n = comp.attributes, comp.name
    instances = _attr(a, ("instances",), source, n) or comp.instances
    mesh_x, mesh_y = _mesh(instances, a, source, n)
    word_bits = _attr(a, ("word-bits", "datawidth"), source, n) or DEFAULT_WORD_BITS
    return ArithmeticSpec(n, comp.cls, instances, mesh_x, mesh_y, word_bits)
