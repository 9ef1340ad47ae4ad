"""A `Mapping` checked against the arch and problem, as Timeloop's loop nest.

The nest is stored innermost loop first. Each storage level contributes its
temporal loops (trivial factors dropped; a level with none gets one trivial
loop, as Timeloop does), and above them sit the spatial loops of the next
level out, which fan that level's tile out to the instances below it.
`boundaries[i]` is the index of storage level i's outermost temporal loop.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from math import prod

from specs.arch import ArchSpec

from ..base import EngineError
from ..mapping import LevelMapping, Mapping
from .problem import Problem


@dataclass(frozen=True)
class NestLoop:
    dim: int  # problem dimension index
    bound: int
    spatial: str | None = None  # None (temporal), "X" or "Y"


@dataclass(frozen=True)
class Nest:
    loops: tuple[NestLoop, ...]  # innermost first
    boundaries: tuple[int, ...]  # per storage level (innermost first)
    keep: tuple[tuple[bool, ...], ...]  # [storage level][data space]

    @property
    def num_levels(self) -> int:
        return len(self.boundaries)

    def level_range(self, level: int) -> range:
        """Loop indices that belong to storage level `level` (its spatial fan-out included)."""
        start = 0 if level == 0 else self.boundaries[level - 1] + 1
        return range(start, self.boundaries[level] + 1)


def build_nest(arch: ArchSpec, problem: Problem, mapping: Mapping) -> Nest:
    """Validate `mapping` and lay it out as a Timeloop loop nest."""
    by_name = _levels_by_name(arch, mapping)
    tensors = problem.tensor_names
    loops: list[NestLoop] = []
    boundaries: list[int] = []
    keep: list[tuple[bool, ...]] = []
    trivial_dim = len(problem.dims) - 1
    for i, spec in enumerate(arch.storage):
        lvl = by_name.get(spec.name)
        temporal = lvl.temporal() if lvl else ()
        spatial = lvl.spatial() if lvl else ()
        if i == 0 and any(loop.bound > 1 for loop in spatial):
            raise EngineError(
                f"level {spec.name!r}: spatial fan-out below the innermost storage level is not supported"
            )
        if i > 0:
            _check_fanout(arch, i, by_name.get(spec.name))
        added = 0
        for loop in reversed(temporal):
            if loop.bound > 1:
                loops.append(NestLoop(_dim(problem, loop.dim, spec.name), loop.bound))
                added += 1
        if added == 0:
            loops.append(NestLoop(trivial_dim, 1))
        boundaries.append(len(loops) - 1)
        if lvl is None:
            keep.append(tuple(True for _ in tensors))
        else:
            unknown = [t for t in lvl.keep if t not in tensors]
            if unknown:
                raise EngineError(
                    f"level {spec.name!r}: keeps unknown tensor(s) {unknown}; tensors are {list(tensors)}"
                )
            keep.append(tuple(t in lvl.keep for t in tensors))
        # Spatial loops of the next level out fan its tile out to this level's instances.
        if i + 1 < len(arch.storage):
            outer = by_name.get(arch.storage[i + 1].name)
            if outer is not None:
                for loop in reversed(outer.spatial()):
                    if loop.bound > 1:
                        loops.append(NestLoop(_dim(problem, loop.dim, outer.level), loop.bound, loop.spatial))
    _check_factors(problem, loops)
    return Nest(tuple(loops), tuple(boundaries), tuple(keep))


def _levels_by_name(arch: ArchSpec, mapping: Mapping) -> dict[str, LevelMapping]:
    names = [lvl.level for lvl in mapping.levels]
    dup = [n for n, c in Counter(names).items() if c > 1]
    if dup:
        raise EngineError(f"mapping lists level(s) {dup} more than once")
    order = {spec.name: i for i, spec in enumerate(arch.storage)}
    for name in names:
        if name not in order:
            raise EngineError(
                f"mapping level {name!r} is not a storage level of the architecture "
                f"({[s.name for s in reversed(arch.storage)]})"
            )
    positions = [order[n] for n in names]
    if positions != sorted(positions, reverse=True):
        raise EngineError(f"mapping levels {names} are not in architecture order (outermost first)")
    for lvl in mapping.levels:
        for loop in lvl.loops:
            if loop.spatial not in (None, "X", "Y"):
                raise EngineError(
                    f"level {lvl.level!r}: loop over {loop.dim} has spatial axis {loop.spatial!r} "
                    "(expected None, 'X' or 'Y')"
                )
            if loop.bound < 1:
                raise EngineError(f"level {lvl.level!r}: loop over {loop.dim} has bound {loop.bound} (< 1)")
    return {lvl.level: lvl for lvl in mapping.levels}


def _dim(problem: Problem, name: str, level: str) -> int:
    if name not in problem.dims:
        raise EngineError(
            f"level {level!r}: loop over unknown dimension {name!r}; problem dimensions are {list(problem.dims)}"
        )
    return problem.dims.index(name)


def _check_fanout(arch: ArchSpec, i: int, lvl: LevelMapping | None) -> None:
    """Spatial loops at storage level i must fit the X/Y fan-out to level i-1."""
    if lvl is None:
        return
    outer, inner = arch.storage[i], arch.storage[i - 1]
    limits = {"X": inner.mesh_x // outer.mesh_x, "Y": inner.mesh_y // outer.mesh_y}
    for axis, limit in limits.items():
        used = prod(loop.bound for loop in lvl.spatial(axis))
        if used > limit:
            raise EngineError(
                f"level {outer.name!r}: spatial-{axis} fan-out {used} exceeds the mesh "
                f"({limit} {inner.name} instances per {outer.name} along {axis})"
            )


def _check_factors(problem: Problem, loops: list[NestLoop]) -> None:
    for d, (name, bound) in enumerate(zip(problem.dims, problem.bounds, strict=True)):
        got = prod(loop.bound for loop in loops if loop.dim == d)
        if got != bound:
            raise EngineError(
                f"mapping factors of dimension {name} multiply to {got}, but the problem has {name}={bound}"
            )
