"""Timeloop (v0.3) mapping constraints, parsed with Timeloop's semantics.

* Files may hold `architecture_constraints` and/or `mapspace_constraints` (each with `targets`), or a plain
  `targets` / `constraints` list; all are merged. Specifying the same factor, permutation, split or keep flag
  twice for one level is an error (as in Timeloop: it usually means the two sections conflict).
* `factors: "C=16 M=0 P<=4"`: `D=n` fixes the factor (clamped to the dimension), `D=0` means the full
  dimension, `D<=n` caps it; dimensions not named are free.
* `permutation: "NPQR SCM"`: innermost loop first; spaces are ignored. It is a prefix: dimensions it does not
  name are permuted freely above it.
* `split` (spatial): the first `split` loops of the spatial permutation (prefix, then the free dimensions) map to
  X, the others to Y; without a split every split point is allowed (`legality.spatial_axes_allowed`). Timeloop's
  random-pruned search moves unit-factor dimensions to the front before splitting, which can shift a dimension from
  X to Y; we follow the documented meaning instead (identical for every reference constraint file).
* bypass: `keep` / `bypass` lists per storage level; tensors not named are left to the mapper.
* `utilization` / `parallelism` `min` (innermost storage level only): minimum fraction of the whole fan-out used.

Sections may be named `architecture_constraints` / `arch_constraints` and `mapspace_constraints` / `mapspace` (the
names timeloop-mapper reads), each a list or a mapping with `targets` / `constraints`; a target may carry a nested
`constraints` list. Factor strings are read with Timeloop's own (lenient) patterns, e.g. `R=3S=3` is two factors.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import yaml

from ..base import EngineError

_FACTOR = re.compile(r"([A-Za-z]+)\s*=*\s*([0-9]+)")
_MAX_FACTOR = re.compile(r"([A-Za-z]+)\s*<=\s*([0-9]+)")


@dataclass
class LevelConstraint:
    """Constraints of one tiling level (the temporal or the spatial loops of one storage level)."""

    factors: dict[str, int] = field(default_factory=dict)  # fixed (after resolving 0 = full dimension)
    max_factors: dict[str, int] = field(default_factory=dict)
    permutation: tuple[str, ...] = ()  # innermost-first prefix
    split: int | None = None  # spatial only


@dataclass
class Constraints:
    """Per storage level name: temporal and spatial constraints and keep flags (True keep, False bypass)."""

    temporal: dict[str, LevelConstraint] = field(default_factory=dict)
    spatial: dict[str, LevelConstraint] = field(default_factory=dict)
    keep: dict[str, dict[str, bool]] = field(default_factory=dict)
    min_utilization: float = 0.0
    sources: tuple[str, ...] = ()


SECTIONS = ("architecture_constraints", "arch_constraints", "mapspace_constraints", "mapspace", "constraints")


def _section_entries(section) -> list:
    """A section is a list of targets, or a mapping holding one under `targets` or `constraints`."""
    if isinstance(section, list):
        return section
    if isinstance(section, dict):
        for key in ("targets", "constraints"):
            if isinstance(section.get(key), list):
                return section[key]
    return []


def _targets(spec, source: str) -> Iterable[dict]:
    """Every single constraint of a file, as Timeloop's mapper finds them: sections `architecture_constraints` /
    `arch_constraints` / `mapspace_constraints` / `mapspace` (or a bare `targets` list or list), each entry either one
    constraint or a `target` with a nested `constraints` list."""
    if isinstance(spec, list):
        entries = spec
    elif isinstance(spec, dict):
        entries = [e for key in SECTIONS if key in spec for e in _section_entries(spec[key])]
        if isinstance(spec.get("targets"), list):
            entries += spec["targets"]
        if not entries and spec and not any(key in spec for key in SECTIONS):
            raise EngineError(f"{source}: no architecture_constraints, mapspace_constraints or targets found")
    else:
        raise EngineError(f"{source}: a constraints file must be a mapping or a list")
    for entry in entries:
        if not isinstance(entry, dict):
            raise EngineError(f"{source}: constraint entry {entry!r} is not a mapping")
        if isinstance(entry.get("constraints"), list):
            for constraint in entry["constraints"]:
                yield {**constraint, "target": entry.get("target", entry.get("name"))}
        else:
            yield entry


def parse_factors(text: str, bounds: dict[str, int], where: str) -> tuple[dict[str, int], dict[str, int]]:
    """(fixed factors, max factors) of a factor string; 0 = the full dimension."""
    text = str(text)
    maxima = {}
    for dim, value in _MAX_FACTOR.findall(text):
        if dim not in bounds:
            raise EngineError(f"{where}: factor for dimension {dim!r}, not in the problem ({' '.join(bounds)})")
        if int(value) <= 0:
            raise EngineError(f"{where}: max factor {dim}<={value} must be positive")
        maxima[dim] = int(value)
    fixed = {}
    for dim, value in _FACTOR.findall(_MAX_FACTOR.sub(" ", text)):
        if dim not in bounds:
            raise EngineError(f"{where}: factor for dimension {dim!r}, not in the problem ({' '.join(bounds)})")
        fixed[dim] = bounds[dim] if int(value) == 0 else min(int(value), bounds[dim])
    return fixed, maxima


def parse_permutation(text: str, bounds: dict[str, int], where: str) -> tuple[str, ...]:
    dims = tuple(ch for ch in str(text) if not ch.isspace())
    for dim in dims:
        if dim not in bounds:
            raise EngineError(f"{where}: permutation names dimension {dim!r}, not in the problem ({' '.join(bounds)})")
    if len(set(dims)) != len(dims):
        raise EngineError(f"{where}: permutation {text!r} repeats a dimension")
    return dims


def load_constraints(paths: Sequence[str | Path], bounds: dict[str, int], storage_levels: Sequence[str],
                     tensors: Sequence[str], spatial_levels: Sequence[str]) -> Constraints:
    """Parse and merge constraint files for a problem with `bounds` on an arch with these levels.

    `spatial_levels`: storage levels that have a spatial fan-out below them (others reject spatial constraints).
    """
    out = Constraints(sources=tuple(str(p) for p in paths))
    for path in paths:
        path = Path(path)
        try:
            spec = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise EngineError(f"{path}: cannot read constraints: {exc}") from None
        for i, target in enumerate(_targets(spec, str(path))):
            _add(out, target, f"{path}: target {i}", bounds, storage_levels, tensors, spatial_levels)
    return out


def _add(out: Constraints, target: dict, where: str, bounds: dict[str, int], storage_levels: Sequence[str],
         tensors: Sequence[str], spatial_levels: Sequence[str]) -> None:
    name, kind = target.get("target", target.get("name")), target.get("type")
    where = f"{where} ({name}, {kind})"
    if name not in storage_levels:
        raise EngineError(f"{where}: target storage level {name!r} not found; levels are {list(storage_levels)}")
    attributes = target.get("attributes", target)
    if kind in ("temporal", "spatial"):
        if kind == "spatial" and name not in spatial_levels:
            raise EngineError(f"{where}: level {name!r} has no spatial fan-out below it")
        level = (out.temporal if kind == "temporal" else out.spatial).setdefault(name, LevelConstraint())
        fixed, maxima = parse_factors(attributes.get("factors", ""), bounds, where)
        for dim, value in fixed.items():
            if dim in level.factors:
                raise EngineError(f"{where}: factor for {dim} specified twice at {name} {kind}")
            level.factors[dim] = value
        for dim, value in maxima.items():
            if dim in level.max_factors:
                raise EngineError(f"{where}: max factor for {dim} specified twice at {name} {kind}")
            level.max_factors[dim] = value
        if attributes.get("permutation") is not None:
            perm = parse_permutation(attributes["permutation"], bounds, where)
            if perm and level.permutation:
                raise EngineError(f"{where}: permutation specified twice at {name} {kind}")
            level.permutation = perm or level.permutation
        if kind == "spatial" and attributes.get("split") is not None:
            if level.split is not None:
                raise EngineError(f"{where}: split specified twice at {name}")
            level.split = int(attributes["split"])
    elif kind in ("bypass", "datatype", "bypassing"):
        flags = out.keep.setdefault(name, {})
        for flag, key in ((True, "keep"), (False, "bypass")):
            for tensor in attributes.get(key) or []:
                if tensor not in tensors:
                    raise EngineError(f"{where}: {key} names tensor {tensor!r}, not in the problem ({', '.join(tensors)})")
                if tensor in flags and flags[tensor] != flag:
                    raise EngineError(f"{where}: tensor {tensor} is both kept and bypassed at {name}")
                flags[tensor] = flag
    elif kind in ("utilization", "parallelism"):
        if name != storage_levels[0]:
            raise EngineError(f"{where}: minimum utilization must target the innermost storage level "
                              f"{storage_levels[0]!r} (it covers the whole fan-out, as in Timeloop)")
        if out.min_utilization:
            raise EngineError(f"{where}: minimum utilization specified twice")
        out.min_utilization = float(attributes.get("min", 0.0))
    else:
        raise EngineError(f"{where}: unknown constraint type {kind!r}")
