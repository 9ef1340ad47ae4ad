"""The constrained mapspace: spatial splits x index factorisations x loop orders x bypass choices.

Tiling slots follow the architecture: every storage level has a temporal slot, and a level with a spatial
fan-out below it (more child instances than its own) also has a spatial slot whose X/Y factors must fit the
fan-out. A mapping assigns every problem dimension a factor per slot (their product is the dimension), an
order to each temporal slot's non-unit loops, and a keep/bypass flag per (level, tensor).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from math import prod

import numpy as np

from specs.arch import ArchSpec

from ..base import EngineError
from ..mapping import LevelMapping, Loop, Mapping
from .constraints import Constraints, LevelConstraint, load_constraints
from .legality import spatial_axes_allowed
from .problem import Problem


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def ordered_factorizations(n: int, parts: int, caps: Sequence[int | None]) -> list[tuple[int, ...]]:
    """All (f_1, ..., f_parts) with product n and f_j <= caps[j] (None: no cap)."""
    if parts == 0:
        return [()] if n == 1 else []
    out = []
    for first in divisors(n):
        if caps[0] is not None and first > caps[0]:
            continue
        for rest in ordered_factorizations(n // first, parts - 1, caps[1:]):
            out.append((first,) + rest)
    return out


# one dimension's factor on one spatial slot: (dimension, factor, axis "X" / "Y"; None for factor 1)
SlotFactor = tuple[str, int, str | None]


@dataclass(frozen=True)
class SpatialSlot:
    level: int  # storage level index (innermost first)
    fanout: dict[str, int]  # {"X": n, "Y": m}
    constraint: LevelConstraint


@dataclass(frozen=True)
class SpatialChoice:
    """Spatial factors: {(storage level, axis): {dim: factor}} (factors > 1 only)."""

    factors: tuple[tuple[tuple[int, str], tuple[tuple[str, int], ...]], ...]

    def as_dict(self) -> dict[tuple[int, str], dict[str, int]]:
        return {key: dict(value) for key, value in self.factors}

    def product(self, dim: str) -> int:
        return prod(f for _, dims in self.factors for d, f in dims if d == dim)

    @property
    def parallelism(self) -> int:
        return prod(f for _, dims in self.factors for _, f in dims)


class Mapspace:
    def __init__(self, arch: ArchSpec, problem: Problem, constraints: Constraints):
        self.arch, self.problem, self.constraints = arch, problem, constraints
        self.dims = list(problem.dims)
        self.bounds = dict(zip(problem.dims, problem.bounds, strict=True))
        self.levels = [spec.name for spec in arch.storage]
        self.tensors = list(problem.tensor_names)
        self.spatial_slots: list[SpatialSlot] = []
        for i in range(1, len(arch.storage)):
            outer, inner = arch.storage[i], arch.storage[i - 1]
            fanout = {"X": inner.mesh_x // outer.mesh_x, "Y": inner.mesh_y // outer.mesh_y}
            if fanout["X"] * fanout["Y"] > 1:
                constraint = constraints.spatial.get(outer.name, LevelConstraint())
                self.spatial_slots.append(SpatialSlot(i, fanout, constraint))
        self.total_fanout = prod(s.fanout["X"] * s.fanout["Y"] for s in self.spatial_slots)
        self.temporal = [constraints.temporal.get(name, LevelConstraint()) for name in self.levels]
        self._check_fixed_factors()
        self._choices: list[SpatialChoice] | None = None
        self._options: dict[SpatialChoice, list[np.ndarray] | None] = {}

    @staticmethod
    def spatial_level_names(arch: ArchSpec) -> list[str]:
        names = []
        for i in range(1, len(arch.storage)):
            outer, inner = arch.storage[i], arch.storage[i - 1]
            if (inner.mesh_x // outer.mesh_x) * (inner.mesh_y // outer.mesh_y) > 1:
                names.append(outer.name)
        return names

    def _check_fixed_factors(self) -> None:
        for dim, bound in self.bounds.items():
            fixed = [
                (f"{self.levels[i]} temporal", c.factors[dim]) for i, c in enumerate(self.temporal) if dim in c.factors
            ]
            fixed += [
                (f"{self.levels[s.level]} spatial", s.constraint.factors[dim])
                for s in self.spatial_slots
                if dim in s.constraint.factors
            ]
            product = prod(f for _, f in fixed)
            if bound % product:
                where = ", ".join(f"{w} {dim}={f}" for w, f in fixed)
                raise EngineError(
                    f"constraints fix factors of dimension {dim} ({where}) whose product {product} "
                    f"does not divide the problem's {dim}={bound}"
                )

    # ---- spatial -------------------------------------------------------------------------------------
    def spatial_choices(self) -> list[SpatialChoice]:
        """Every spatial assignment that fits the fan-outs, the X/Y splits (`spatial_axes_allowed`) and the minimum
        utilization and divides the dimensions, most parallel first."""
        if self._choices is None:
            self._choices = self._spatial_choices()
        return list(self._choices)

    def _spatial_choices(self) -> list[SpatialChoice]:
        options_per_slot: list[list[tuple[SlotFactor, ...]]] = []
        for slot in self.spatial_slots:
            per_dim: list[list[SlotFactor]] = []
            for dim in self.dims:
                c = slot.constraint
                if dim in c.factors:
                    values = [c.factors[dim]]
                else:
                    cap = c.max_factors.get(dim)
                    values = [v for v in divisors(self.bounds[dim]) if cap is None or v <= cap]
                choices: list[SlotFactor] = []
                for v in values:
                    if v == 1:
                        choices.append((dim, 1, None))
                    else:
                        choices.extend((dim, v, axis) for axis in ("X", "Y") if 1 < v <= slot.fanout[axis])
                if not choices:
                    raise EngineError(
                        f"level {self.levels[slot.level]!r}: spatial factor {dim}={values[0]} does not "
                        f"fit its fan-out (X={slot.fanout['X']}, Y={slot.fanout['Y']})"
                    )
                per_dim.append(choices)
            slot_options: list[tuple[SlotFactor, ...]] = []
            fitting = 0
            for combo in itertools.product(*per_dim):
                used = {"X": 1, "Y": 1}
                for _, v, axis in combo:
                    if axis:
                        used[axis] *= v
                x_dims = {d for d, _, axis in combo if axis == "X"}
                y_dims = {d for d, _, axis in combo if axis == "Y"}
                if all(used[a] <= slot.fanout[a] for a in used):
                    fitting += 1
                    if spatial_axes_allowed(slot.constraint, self.dims, x_dims, y_dims):
                        slot_options.append(combo)
            if not slot_options:
                name, c = self.levels[slot.level], slot.constraint
                fixed = " ".join(f"{d}={f}" for d, f in c.factors.items() if f > 1)
                if fitting:
                    raise EngineError(
                        f"level {name!r}: spatial factors ({fixed}) do not fit the X/Y fan-out "
                        f"(X={slot.fanout['X']}, Y={slot.fanout['Y']}) with permutation "
                        f"{''.join(c.permutation)!r} and split {c.split}"
                    )
                raise EngineError(
                    f"level {name!r}: spatial factors ({fixed}) exceed its fan-out "
                    f"(X={slot.fanout['X']}, Y={slot.fanout['Y']})"
                )
            options_per_slot.append(slot_options)
        out = []
        for per_slot in itertools.product(*options_per_slot):
            totals = {d: 1 for d in self.dims}
            for slot_combo in per_slot:
                for dim, v, _ in slot_combo:
                    totals[dim] *= v
            if any(self.bounds[d] % totals[d] for d in self.dims):
                continue
            factors = []
            for slot, slot_combo in zip(self.spatial_slots, per_slot, strict=True):
                for axis in ("X", "Y"):
                    dims = tuple((d, v) for d, v, a in slot_combo if a == axis)
                    if dims:
                        factors.append(((slot.level, axis), dims))
            choice = SpatialChoice(tuple(factors))
            if choice.parallelism >= self.constraints.min_utilization * self.total_fanout:
                out.append(choice)
        out.sort(key=lambda s: -s.parallelism)
        return out

    # ---- temporal factors ------------------------------------------------------------------------------
    def free_levels(self, dim: str) -> list[int]:
        return [i for i, c in enumerate(self.temporal) if dim not in c.factors]

    def factor_options(self, spatial: SpatialChoice) -> list[np.ndarray] | None:
        """Per dimension, every temporal factor column ([k, storage levels]) for one spatial choice; None if the
        constraints leave no valid factorisation."""
        if spatial not in self._options:
            self._options[spatial] = self._factor_options(spatial)
        return self._options[spatial]

    def _factor_options(self, spatial: SpatialChoice) -> list[np.ndarray] | None:
        per_dim = []
        for dim in self.dims:
            fixed = {i: c.factors[dim] for i, c in enumerate(self.temporal) if dim in c.factors}
            rest = self.bounds[dim] // spatial.product(dim)
            for f in fixed.values():
                if rest % f:
                    return None
                rest //= f
            free = self.free_levels(dim)
            caps = [self.temporal[i].max_factors.get(dim) for i in free]
            combos = ordered_factorizations(rest, len(free), caps) if free else ([()] if rest == 1 else [])
            if not combos:
                return None
            columns = np.ones((len(combos), len(self.levels)), dtype=np.int64)
            for i, f in fixed.items():
                columns[:, i] = f
            if free:
                columns[:, free] = np.array(combos, dtype=np.int64)
            per_dim.append(columns)
        return per_dim

    def temporal_factors(self, spatial: SpatialChoice) -> np.ndarray | None:
        """All temporal factorisations for one spatial choice: int array [n, storage levels, dims], or None."""
        per_dim = self.factor_options(spatial)
        if per_dim is None:
            return None
        grids = np.meshgrid(*[np.arange(len(c)) for c in per_dim], indexing="ij")
        index = [g.ravel() for g in grids]
        return np.stack([per_dim[d][index[d]] for d in range(len(self.dims))], axis=2)

    def spatial_array(self, spatial: SpatialChoice) -> np.ndarray:
        """Spatial factors as [storage levels, dims] (both axes multiplied)."""
        out = np.ones((len(self.levels), len(self.dims)), dtype=np.int64)
        for (level, _axis), dims in spatial.factors:
            for dim, f in dims:
                out[level, self.dims.index(dim)] *= f
        return out

    def log10_size(self) -> float:
        """log10 of the number of mappings the constraints allow, before capacity checks: per spatial choice, index
        factorisations x loop orders x keep options. Orders are counted as k! per temporal level, k being the
        dimensions outside its permutation prefix that can take a factor > 1 there (an upper bound: Timeloop's
        permutation subspace, unit loops not deduplicated)."""
        logs = []
        for spatial in self.spatial_choices():
            options = self.factor_options(spatial)
            if options is None:
                continue
            log_size = sum(math.log10(len(col)) for col in options)
            for level in range(1, len(self.levels)):
                prefix = set(self.temporal[level].permutation)
                k = sum(
                    1
                    for d, col in zip(self.dims, options, strict=True)
                    if d not in prefix and (col[:, level] > 1).any()
                )
                log_size += math.log10(math.factorial(k))
            logs.append(log_size)
        if not logs:
            return 0.0
        top = max(logs)
        return top + math.log10(sum(10 ** (x - top) for x in logs)) + math.log10(len(self.keep_options()))

    # ---- loop orders -----------------------------------------------------------------------------------
    def orders(self, level: int, factors: Sequence[int]) -> list[tuple[str, ...]]:
        """Innermost-first orders of a temporal slot's non-unit loops allowed by its permutation prefix."""
        active = [d for d, f in zip(self.dims, factors, strict=True) if f > 1]
        prefix = [d for d in self.temporal[level].permutation if d in active]
        free = [d for d in active if d not in prefix]
        if level == 0:  # Timeloop ignores the innermost level's permutation (canonical order)
            return [tuple(active)]
        return [tuple(prefix) + perm for perm in itertools.permutations(free)]

    # ---- keep flags --------------------------------------------------------------------------------------
    def keep_options(self) -> list[tuple[tuple[bool, ...], ...]]:
        """Every keep/bypass assignment the constraints leave open ([level][tensor]); the outermost keeps all."""
        per_level = []
        for i, name in enumerate(self.levels):
            flags = self.constraints.keep.get(name, {})
            if i == len(self.levels) - 1:
                per_level.append([tuple(True for _ in self.tensors)])
                continue
            options = [[flags[t]] if t in flags else [True, False] for t in self.tensors]
            per_level.append(list(itertools.product(*options)))
        return list(itertools.product(*per_level))

    # ---- building a Mapping -------------------------------------------------------------------------------
    def mapping(
        self,
        spatial: SpatialChoice,
        factors: np.ndarray,
        orders: Sequence[tuple[str, ...]],
        keep: Sequence[Sequence[bool]],
    ) -> Mapping:
        spatial_map = spatial.as_dict()
        levels = []
        for i in range(len(self.levels) - 1, -1, -1):
            loops = []
            order = orders[i]
            for dim in reversed(order):  # map.txt lists outermost first
                loops.append(Loop(dim, int(factors[i, self.dims.index(dim)])))
            for axis in ("X", "Y"):
                for dim, f in spatial_map.get((i, axis), {}).items():
                    loops.append(Loop(dim, f, axis))
            kept = tuple(t for t, k in zip(self.tensors, keep[i], strict=True) if k)
            levels.append(LevelMapping(self.levels[i], tuple(loops), kept))
        return Mapping(tuple(levels))


def layer_constraints(paths: Sequence, arch: ArchSpec, problem: Problem) -> Constraints:
    """Constraint files read and resolved for `problem` on `arch`: its bounds, storage levels, tensors and the
    levels below which it has a spatial fan-out (what `load_constraints` needs)."""
    return load_constraints(
        paths,
        dict(zip(problem.dims, problem.bounds, strict=True)),
        [s.name for s in arch.storage],
        problem.tensor_names,
        Mapspace.spatial_level_names(arch),
    )
