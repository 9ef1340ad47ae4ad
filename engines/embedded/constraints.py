"""Timeloop (v0.3) mapping constraints resolved for one problem on one architecture.

Files are read by specs.constraints (every layout timeloop-mapper accepts, factor strings with Timeloop's lenient
patterns, the same field twice for one target is an error). Here they are resolved with Timeloop's semantics:

* `D=n` fixes the factor (clamped to the dimension), `D=0` means the full dimension, `D<=n` caps it; dimensions not
  named are free. A factor of a dimension the problem lacks is an error.
* `permutation` (innermost loop first) is a prefix: dimensions it does not name are permuted freely above it.
* `split` (spatial): the first `split` loops of the spatial permutation (prefix, then the free dimensions) map to
  X, the others to Y; without a split every split point is allowed (`legality.spatial_axes_allowed`).
* bypass: `keep` / `bypass` per storage level; tensors not named are left to the mapper.
* `utilization` / `parallelism` `min` (innermost storage level only): minimum fraction of the whole fan-out used.

Several files are merged; a field given in two files for one level is an error, as in one file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specs.constraints import load_constraints as read_constraints
from specs.constraints import parse_factors as read_factors

from ..base import EngineError


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


def resolve_factors(
    fixed: dict[str, int], maxima: dict[str, int], bounds: dict[str, int], where: str
) -> tuple[dict[str, int], dict[str, int]]:
    """(fixed, max) factors against the problem: 0 = the full dimension, fixed factors clamped to the bound."""
    for dim in (*fixed, *maxima):
        if dim not in bounds:
            raise EngineError(f"{where}: factor for dimension {dim!r}, not in the problem ({' '.join(bounds)})")
    for dim, value in maxima.items():
        if value <= 0:
            raise EngineError(f"{where}: max factor {dim}<={value} must be positive")
    return {d: bounds[d] if v == 0 else min(v, bounds[d]) for d, v in fixed.items()}, dict(maxima)


def parse_factors(text: str, bounds: dict[str, int], where: str) -> tuple[dict[str, int], dict[str, int]]:
    """(fixed factors, max factors) of a factor string read as timeloop-mapper reads it; 0 = the full dimension."""
    parsed = read_factors(text, where, strict=False)
    fixed = {d: v for d, op, v in parsed if op == "="}
    return resolve_factors(fixed, {d: v for d, op, v in parsed if op == "<="}, bounds, where)


def parse_permutation(text: str, bounds: dict[str, int], where: str) -> tuple[str, ...]:
    dims = tuple(ch for ch in str(text) if not ch.isspace())
    for dim in dims:
        if dim not in bounds:
            raise EngineError(f"{where}: permutation names dimension {dim!r}, not in the problem ({' '.join(bounds)})")
    if len(set(dims)) != len(dims):
        raise EngineError(f"{where}: permutation {text!r} repeats a dimension")
    return dims


def load_constraints(
    paths: Sequence[str | Path],
    bounds: dict[str, int],
    storage_levels: Sequence[str],
    tensors: Sequence[str],
    spatial_levels: Sequence[str],
) -> Constraints:
    """Read, resolve and merge constraint files for a problem with `bounds` on an arch with these levels.

    `spatial_levels`: storage levels that have a spatial fan-out below them (others reject spatial constraints)."""
    out = Constraints(sources=tuple(str(p) for p in paths))
    for path in paths:
        for target, specs in read_constraints(Path(path)).items():
            for kind, spec in specs.items():
                _add(
                    out, target, kind, spec, f"{path}: {target} {kind}", bounds, storage_levels, tensors, spatial_levels
                )
    return out


def _add(
    out: Constraints,
    name: str,
    kind: str,
    spec: dict[str, Any],
    where: str,
    bounds: dict[str, int],
    storage_levels: Sequence[str],
    tensors: Sequence[str],
    spatial_levels: Sequence[str],
) -> None:
    if name not in storage_levels:
        raise EngineError(f"{where}: target storage level {name!r} not found; levels are {list(storage_levels)}")
    if kind in ("temporal", "spatial"):
        if kind == "spatial" and name not in spatial_levels:
            raise EngineError(f"{where}: level {name!r} has no spatial fan-out below it")
        level = (out.temporal if kind == "temporal" else out.spatial).setdefault(name, LevelConstraint())
        fixed, maxima = resolve_factors(spec["factors"], spec["max_factors"], bounds, where)
        for bucket, values, what in ((level.factors, fixed, "factor"), (level.max_factors, maxima, "max factor")):
            for dim, value in values.items():
                if dim in bucket:
                    raise EngineError(f"{where}: {what} for {dim} specified twice at {name} {kind}")
                bucket[dim] = value
        if spec.get("permutation"):
            if level.permutation:
                raise EngineError(f"{where}: permutation specified twice at {name} {kind}")
            level.permutation = parse_permutation(spec["permutation"], bounds, where)
        if kind == "spatial" and spec.get("split") is not None:
            if level.split is not None:
                raise EngineError(f"{where}: split specified twice at {name}")
            level.split = int(spec["split"])
    elif kind == "bypass":
        flags = out.keep.setdefault(name, {})
        for flag, key in ((True, "keep"), (False, "bypass")):
            for tensor in spec.get(key) or []:
                if tensor not in tensors:
                    raise EngineError(
                        f"{where}: {key} names tensor {tensor!r}, not in the problem ({', '.join(tensors)})"
                    )
                if tensor in flags and flags[tensor] != flag:
                    raise EngineError(f"{where}: tensor {tensor} is both kept and bypassed at {name}")
                flags[tensor] = flag
    elif kind == "utilization":
        if name != storage_levels[0]:
            raise EngineError(
                f"{where}: minimum utilization must target the innermost storage level "
                f"{storage_levels[0]!r} (it covers the whole fan-out, as in Timeloop)"
            )
        if out.min_utilization:
            raise EngineError(f"{where}: minimum utilization specified twice")
        out.min_utilization = float(spec.get("min", 0.0))
