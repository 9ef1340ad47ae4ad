"""Fast nest analysis: the same numbers as `reference.py`, computed per (level, tensor)
without replaying the nest.

Why this is exact. Timeloop simulates each temporal loop as iteration 0 plus
iteration 1 counted (bound-1) times. For one instance of a child level, the
sequence of its tiles is therefore a walk over binary index vectors of the
temporal loops above it; every step is "loop m advances by one, the inner loops
go back from index 1 to 0", so the tile moves by a fixed shift that depends only
on m. A shift touching no tensor axis delivers nothing; one overlapping on a
single axis delivers the uncovered slab (if the sliding direction matches the
one stored at the previous step, else Timeloop resets reuse and delivers the
whole tile); anything else delivers the whole tile. A short recursion over the
loops above the child, memoised on the stored direction, sums all steps:

    pass_m(g) = pass_{m-1}(g) ; step_m ; pass_{m-1}(g')     (second half x (bound_m - 1))

and the words delivered to one child instance are |tile| + pass_top(no direction).
Under a spatial fan-out every instance sees the same walk shifted by its offset,
so deliveries are equal exactly when offsets project to the same tensor
position: multicast groups come from counting projected offsets.
"""

from __future__ import annotations

from collections import Counter

from ..base import EngineError
from .nest import Nest
from .problem import Problem
from .tiles import LoopTile, NestStats, collapse

Direction = tuple[int, int]  # (tensor axis, +1/-1); (-1, 0) = none
NO_DIRECTION: Direction = (-1, 0)
_NOTHING, _WHOLE, _SLIDE = 0, 1, 2


class FastAnalysis:
    """Per-level, per-tensor closed-form evaluation of a nest."""

    def __init__(self, problem: Problem, nest: Nest):
        self.problem, self.nest = problem, nest
        loops = nest.loops
        if loops[0].spatial:
            raise EngineError("the innermost loop must be temporal")
        n_dims = len(problem.dims)
        scale = [1] * n_dims
        self.step: list[int] = []  # operation-space step of each loop along its dimension
        self.extent: list[tuple[int, ...]] = []  # operation-space box covered by each loop and those inside
        for loop in loops:
            self.step.append(scale[loop.dim])
            scale[loop.dim] *= loop.bound
            self.extent.append(tuple(scale))
        self.replication = [1] * len(loops)
        product = 1
        for level in range(len(loops) - 1, -1, -1):
            self.replication[level] = product
            if loops[level].spatial:
                product *= loops[level].bound
        # Per tensor: for each problem dimension, the (axis, coefficient) pairs it feeds.
        self.axes_of_dim: list[list[list[tuple[int, int]]]] = []
        for ds in problem.data_spaces:
            per_dim: list[list[tuple[int, int]]] = [[] for _ in range(n_dims)]
            for axis, expr in enumerate(ds.projection):
                for dim, coef in expr:
                    per_dim[dim].append((axis, coef))
            self.axes_of_dim.append(per_dim)
        self.n_axes = [len(ds.projection) for ds in problem.data_spaces]

    # ---- geometry

    def widths(self, k: int, extent: tuple[int, ...]) -> list[int]:
        """Tensor-k box widths per axis of the operation-space box `extent`."""
        widths = [1] * self.n_axes[k]
        for dim, pairs in enumerate(self.axes_of_dim[k]):
            for axis, coef in pairs:
                widths[axis] += abs(coef) * (extent[dim] - 1)
        return widths

    def shift(self, k: int, offset: dict[int, int]) -> list[int]:
        """Tensor-k position shift per axis of an operation-space offset {dim: amount}."""
        shift = [0] * self.n_axes[k]
        for dim, amount in offset.items():
            for axis, coef in self.axes_of_dim[k][dim]:
                shift[axis] += coef * amount
        return shift

    # ---- words delivered to one child instance

    def walk(self, child_boundary: int) -> list[tuple[int, dict[int, int]]]:
        """(bound, operation-space shift) of each step of the walk above a child level, innermost first."""
        steps: list[tuple[int, dict[int, int]]] = []
        back: dict[int, int] = {}  # inner loops returning from index 1 to 0
        for loop_index in range(child_boundary + 1, len(self.nest.loops)):
            loop = self.nest.loops[loop_index]
            if loop.spatial is not None or loop.bound == 1:
                continue
            offset = dict(back)
            offset[loop.dim] = offset.get(loop.dim, 0) + self.step[loop_index]
            steps.append((loop.bound, offset))
            back[loop.dim] = back.get(loop.dim, 0) - self.step[loop_index]
        return steps

    def delivered(self, child_boundary: int, k: int, walk: list[tuple[int, dict[int, int]]] | None = None) -> int:
        """Words of tensor k delivered to one instance of the level whose outermost loop is
        `child_boundary`, over the whole run (Timeloop's extrapolated walk)."""
        widths = self.widths(k, self.extent[child_boundary])
        size = 1
        for w in widths:
            size *= w
        steps: list[tuple[int, int, int, Direction]] = []  # (bound, kind, slab words, direction)
        for bound, offset in self.walk(child_boundary) if walk is None else walk:
            moved = [(axis, s) for axis, s in enumerate(self.shift(k, offset)) if s]
            if not moved:
                steps.append((bound, _NOTHING, 0, NO_DIRECTION))
            elif len(moved) > 1 or abs(moved[0][1]) >= widths[moved[0][0]]:
                steps.append((bound, _WHOLE, size, NO_DIRECTION))
            else:
                axis, s = moved[0]
                steps.append((bound, _SLIDE, size // widths[axis] * abs(s), (axis, 1 if s > 0 else -1)))
        memo: dict[tuple[int, Direction], tuple[int, Direction]] = {}

        def walk_pass(m: int, direction: Direction) -> tuple[int, Direction]:
            if m == 0:
                return 0, direction
            key = (m, direction)
            hit = memo.get(key)
            if hit is not None:
                return hit
            bound, kind, slab, slide = steps[m - 1]
            first, d0 = walk_pass(m - 1, direction)
            if kind == _NOTHING:
                words, d1 = 0, NO_DIRECTION
            elif kind == _WHOLE or (d0 != NO_DIRECTION and d0 != slide):
                words, d1 = size, NO_DIRECTION  # no overlap, or reuse reset by a change of direction
            else:
                words, d1 = slab, slide
            second, d2 = walk_pass(m - 1, d1)
            memo[key] = result = (first + (bound - 1) * (words + second), d2)
            return result

        return size + walk_pass(len(steps), NO_DIRECTION)[0]

    def multicast_groups(self, group: list[int], k: int) -> Counter:
        """{multicast factor: number of groups} over the instances of a spatial fan-out."""
        loops = self.nest.loops
        positions: Counter = Counter({(0,) * self.n_axes[k]: 1})
        for loop_index in group:
            step = self.shift(k, {loops[loop_index].dim: self.step[loop_index]})
            if not any(step):
                positions = Counter({p: c * loops[loop_index].bound for p, c in positions.items()})
                continue
            grown: Counter = Counter()
            for point, count in positions.items():
                for i in range(loops[loop_index].bound):
                    grown[tuple(p + i * s for p, s in zip(point, step, strict=True))] += count
            positions = grown
        return Counter(positions.values())

    # ---- driver

    def run(self) -> NestStats:
        nest, loops = self.nest, self.nest.loops
        compute_cycles = 1
        for loop in loops:
            if loop.spatial is None:
                compute_cycles *= loop.bound
        n_spaces = len(self.n_axes)
        per_tensor: list[list[list[LoopTile]]] = [[] for _ in range(n_spaces)]
        for s in range(nest.num_levels):
            rng = nest.level_range(s)
            b = nest.boundaries[s]
            group = [loop_index for loop_index in rng if loops[loop_index].spatial]
            walk = self.walk(nest.boundaries[s - 1]) if s else []
            for k in range(n_spaces):
                outer = LoopTile(
                    size=_prod(self.widths(k, self.extent[b])), accesses=[], scatter=[], replication=self.replication[b]
                )
                if s == 0:
                    inner = LoopTile(0, [compute_cycles], [1], self.replication[0])
                else:
                    words = self.delivered(nest.boundaries[s - 1], k, walk)
                    if group:
                        master = group[-1]
                        counts = self.multicast_groups(group, k)
                        accesses, scatter = [0] * max(counts), [0] * max(counts)
                        for factor, n_groups in counts.items():
                            accesses[factor - 1] = n_groups * words
                            scatter[factor - 1] = n_groups
                        inner = LoopTile(
                            _prod(self.widths(k, self.extent[master])),
                            accesses,
                            scatter,
                            self.replication[master],
                            is_master_spatial=True,
                        )
                    else:
                        inner = LoopTile(0, [words], [1], self.replication[rng.start])
                if inner.is_master_spatial or rng.start != b:
                    per_tensor[k].append([inner, outer])
                else:  # a single temporal loop: it is both the innermost and the boundary loop
                    outer.accesses, outer.scatter = inner.accesses, inner.scatter
                    per_tensor[k].append([outer])
        tiles_by_tensor = [collapse(per_tensor[k], [keep[k] for keep in nest.keep]) for k in range(n_spaces)]
        tiles = [[tiles_by_tensor[k][s] for k in range(n_spaces)] for s in range(nest.num_levels)]
        return NestStats(tiles, compute_cycles, self.replication[0])


def _prod(values: list[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out


def fast_analysis(problem: Problem, nest: Nest) -> NestStats:
    return FastAnalysis(problem, nest).run()
