"""Does a mapping satisfy a set of constraints? An independent check of what the mapper returns.

It re-reads the mapping's loop nest (not the mapspace's data structures) and lists every violated constraint:
loop bounds that do not multiply to the problem, fixed / max factors, temporal permutation prefixes (the innermost
level must use the canonical order, as Timeloop builds it), spatial fan-outs, X/Y splits (`spatial_axes_allowed`),
keep / bypass flags and the minimum parallelism. Capacity is the model's check (`evaluate_mapping` raises).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from specs.arch import ArchSpec

from ..mapping import LevelMapping, Mapping
from .constraints import Constraints, LevelConstraint
from .problem import Problem


def spatial_axes_allowed(constraint: LevelConstraint, dims: Sequence[str], x_dims: set[str], y_dims: set[str]) -> bool:
    """Can Timeloop's spatial permutation + split put the non-unit dims `x_dims` on X and `y_dims` on Y?

    Timeloop orders a spatial level's loops as the permutation prefix, then the other dimensions in any order, and
    sends the first `split` loops to X. With a split: prefix dims go to X iff their position is < split, and at
    most `split - len(prefix)` other dims go to X (at most `len(dims) - split` to Y). Without a split every split
    point is tried, so X must be a prefix of the non-unit prefix dims, or all of them plus any others.
    """
    prefix = list(constraint.permutation)
    others = [d for d in dims if d not in prefix]
    x_other, y_other = len(x_dims & set(others)), len(y_dims & set(others))
    if constraint.split is not None:
        split = constraint.split
        if any((prefix.index(d) < split) != (d in x_dims) for d in prefix if d in x_dims | y_dims):
            return False
        x_room = max(0, split - len(prefix))
        return x_other <= x_room and y_other <= len(others) - min(x_room, len(others))
    active_prefix = [d for d in prefix if d in x_dims | y_dims]
    n_x = sum(1 for d in active_prefix if d in x_dims)
    if set(active_prefix[:n_x]) != x_dims & set(prefix):
        return False
    return n_x == len(active_prefix) or x_other == 0


def _temporal_order(level: LevelMapping) -> list[str]:
    """Innermost-first non-unit temporal loop dims."""
    return [loop.dim for loop in reversed(level.temporal()) if loop.bound > 1]


def mapping_violations(mapping: Mapping, constraints: Constraints, arch: ArchSpec, problem: Problem) -> list[str]:
    """Every constraint `mapping` breaks, one sentence each (empty list: the mapping is in the mapspace)."""
    out: list[str] = []
    names = [spec.name for spec in arch.storage]
    if [lvl.level for lvl in mapping.levels] != names[::-1]:
        return [f"levels {[lvl.level for lvl in mapping.levels]} are not the architecture's {names[::-1]}"]
    dims = list(problem.dims)
    for dim, bound in zip(problem.dims, problem.bounds, strict=True):
        if mapping.factors(dim) != bound:
            out.append(f"loops over {dim} multiply to {mapping.factors(dim)}, the problem has {dim}={bound}")
    total_fanout, parallelism = 1, 1
    for i, spec in enumerate(arch.storage):
        level = mapping.level(spec.name)
        temporal = constraints.temporal.get(spec.name, LevelConstraint())
        out += _factor_violations(level, temporal, None, dims)
        order = _temporal_order(level)
        if len(order) != len(set(order)):
            out.append(f"{spec.name}: a dimension has two temporal loops")
        if i == 0:
            if order != [d for d in dims if d in order]:
                out.append(f"{spec.name}: innermost level loops {order} not in the canonical order")
        else:
            prefix = [d for d in temporal.permutation if d in order]
            if order[: len(prefix)] != prefix:
                out.append(
                    f"{spec.name}: temporal loops {order} (innermost first) do not start with "
                    f"the permutation prefix {prefix}"
                )
        fanout = (
            {"X": arch.storage[i - 1].mesh_x // spec.mesh_x, "Y": arch.storage[i - 1].mesh_y // spec.mesh_y}
            if i > 0
            else {"X": 1, "Y": 1}
        )
        spatial = constraints.spatial.get(spec.name, LevelConstraint())
        used = {axis: prod(loop.bound for loop in level.spatial(axis)) for axis in ("X", "Y")}
        for axis in ("X", "Y"):
            if used[axis] > fanout[axis]:
                out.append(
                    f"{spec.name}: spatial {axis} factors multiply to {used[axis]}, fan-out {axis} is {fanout[axis]}"
                )
        if fanout["X"] * fanout["Y"] > 1:
            total_fanout *= fanout["X"] * fanout["Y"]
            parallelism *= used["X"] * used["Y"]
            out += _factor_violations(level, spatial, "spatial", dims)
            x_dims = {loop.dim for loop in level.spatial("X") if loop.bound > 1}
            y_dims = {loop.dim for loop in level.spatial("Y") if loop.bound > 1}
            if not spatial_axes_allowed(spatial, dims, x_dims, y_dims):
                out.append(
                    f"{spec.name}: spatial X {sorted(x_dims)} / Y {sorted(y_dims)} not reachable with "
                    f"permutation {''.join(spatial.permutation)!r} and split {spatial.split}"
                )
        flags = constraints.keep.get(spec.name, {})
        for tensor in problem.tensor_names:
            kept = tensor in level.keep
            if i == len(arch.storage) - 1 and not kept:
                out.append(f"{spec.name}: the outermost level must keep {tensor}")
            elif tensor in flags and flags[tensor] != kept:
                out.append(
                    f"{spec.name}: {tensor} is {'kept' if kept else 'bypassed'}, the constraints say "
                    f"{'keep' if flags[tensor] else 'bypass'}"
                )
    if constraints.min_utilization and parallelism < constraints.min_utilization * total_fanout:
        out.append(
            f"parallelism {parallelism}/{total_fanout} is below the minimum utilization {constraints.min_utilization}"
        )
    return out


def _factor_violations(
    level: LevelMapping, constraint: LevelConstraint, kind: str | None, dims: Sequence[str]
) -> list[str]:
    loops = level.spatial() if kind else level.temporal()
    label = f"{level.level} {kind or 'temporal'}"
    out = []
    for dim in dims:
        factor = prod(loop.bound for loop in loops if loop.dim == dim)
        if dim in constraint.factors and factor != constraint.factors[dim]:
            out.append(f"{label}: {dim}={factor}, the constraints fix {dim}={constraint.factors[dim]}")
        if dim in constraint.max_factors and factor > constraint.max_factors[dim]:
            out.append(f"{label}: {dim}={factor} exceeds {dim}<={constraint.max_factors[dim]}")
    return out
