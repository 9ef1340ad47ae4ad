"""Fast nest analysis: the same numbers as `reference.py`, computed per (level, tensor)
without replaying the nest.

Why this is exact. Timeloop simulates each temporal loop as iteration 0 plus
iteration 1 counted (bound-1) times. For one instance of a child level, the
sequence of its tiles is therefore a walk over binary index vectors of the
temporal loops above it; every step is "loop m advances by one, the inner loops
go back from index 1 to 0", so its delta only depends on m and on the sliding
direction stored at the previous step (Timeloop resets reuse when that changes).
A short recursion over the loops above the child (memoised on that direction)
sums all steps:

    pass_m(g) = pass_{m-1}(g) ; step_m ; pass_{m-1}(g')     (the second half x (bound_m - 1))

and the words delivered to one child instance are |tile| + pass_top(no direction).
Under a spatial fan-out every instance sees the same walk shifted by its offset,
so deltas are equal exactly when the offsets project to the same tensor
position: the multicast groups come from counting projected offsets.
"""
from __future__ import annotations

from collections import Counter
from itertools import product as cartesian

from ..base import EngineError
from .nest import Nest
from .problem import Problem
from .reference import NO_GRADIENT, Box, Gradient, box_delta, box_size
from .tiles import LoopTile, NestStats, collapse


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
        self.extent: list[list[int]] = []  # operation-space box extent covered by each loop
        for loop in loops:
            self.step.append(scale[loop.dim])
            scale[loop.dim] *= loop.bound
            self.extent.append(list(scale))
        self.replication = [1] * len(loops)
        product = 1
        for level in range(len(loops) - 1, -1, -1):
            self.replication[level] = product
            if loops[level].spatial:
                product *= loops[level].bound
        self.spaces = [ds.projection for ds in problem.data_spaces]

    # ---- boxes

    def _project(self, space, lo: list[int], extent: list[int]) -> Box:
        blo, bhi = [], []
        for expr in space:
            a = b = 0
            for dim, coef in expr:
                hi = lo[dim] + extent[dim] - 1
                if coef >= 0:
                    a += coef * lo[dim]
                    b += coef * hi
                else:
                    a += coef * hi
                    b += coef * lo[dim]
            blo.append(a)
            bhi.append(b + 1)
        return tuple(blo), tuple(bhi)

    def _offset_point(self, offset: list[int], space) -> tuple[int, ...]:
        return tuple(sum(coef * offset[dim] for dim, coef in expr) for expr in space)

    # ---- words delivered to one child instance

    def delivered(self, child_boundary: int, k: int) -> int:
        """Words of tensor k delivered to one instance of the level whose outermost loop is
        `child_boundary`, over the whole run (Timeloop's extrapolated walk)."""
        space = self.spaces[k]
        extent = self.extent[child_boundary]
        n_dims = len(extent)
        origin = [0] * n_dims
        old = self._project(space, origin, extent)
        walk = [l for l in range(child_boundary + 1, len(self.nest.loops))
                if self.nest.loops[l].spatial is None and self.nest.loops[l].bound > 1]
        steps: list[tuple[int, Box]] = []  # (bound, new box) of each advancing loop, innermost first
        back = [0] * n_dims  # inner loops returning from index 1 to 0
        for l in walk:
            loop = self.nest.loops[l]
            offset = list(back)
            offset[loop.dim] += self.step[l]
            steps.append((loop.bound, self._project(space, offset, extent)))
            back[loop.dim] -= self.step[l]
        memo: dict[tuple[int, Gradient], tuple[int, Gradient]] = {}

        def walk_pass(m: int, gradient: Gradient) -> tuple[int, Gradient]:
            if m == 0:
                return 0, gradient
            key = (m, gradient)
            if key not in memo:
                bound, new = steps[m - 1]
                first, g0 = walk_pass(m - 1, gradient)
                delta, g1 = box_delta(new, old, g0)
                second, g2 = walk_pass(m - 1, g1)
                memo[key] = (first + (bound - 1) * (box_size(delta) + second), g2)
            return memo[key]

        return box_size(old) + walk_pass(len(steps), NO_GRADIENT)[0]

    def multicast_groups(self, group: list[int], k: int) -> Counter:
        """{multicast factor: number of groups} over the instances of a spatial fan-out."""
        space = self.spaces[k]
        n_dims = len(self.problem.dims)
        loops = self.nest.loops
        positions = Counter()
        for idx in cartesian(*(range(loops[l].bound) for l in group)):
            offset = [0] * n_dims
            for l, i in zip(group, idx):
                offset[loops[l].dim] += i * self.step[l]
            positions[self._offset_point(offset, space)] += 1
        return Counter(positions.values())

    # ---- driver

    def run(self) -> NestStats:
        nest, loops = self.nest, self.nest.loops
        compute_cycles = 1
        for loop in loops:
            if loop.spatial is None:
                compute_cycles *= loop.bound
        per_tensor: list[list[list[LoopTile]]] = [[] for _ in self.spaces]
        for s in range(nest.num_levels):
            rng = nest.level_range(s)
            b = nest.boundaries[s]
            group = [l for l in rng if loops[l].spatial]
            for k, space in enumerate(self.spaces):
                outer = LoopTile(size=box_size(self._project(space, [0] * len(self.extent[b]), self.extent[b])),
                                 accesses=[], scatter=[], replication=self.replication[b])
                if s == 0:
                    inner = LoopTile(0, [compute_cycles], [1], self.replication[0])
                else:
                    words = self.delivered(nest.boundaries[s - 1], k)
                    if group:
                        master = group[-1]
                        counts = self.multicast_groups(group, k)
                        fan = max(counts)
                        accesses, scatter = [0] * fan, [0] * fan
                        for factor, n_groups in counts.items():
                            accesses[factor - 1] = n_groups * words
                            scatter[factor - 1] = n_groups
                        size = box_size(self._project(space, [0] * len(self.extent[master]), self.extent[master]))
                        inner = LoopTile(size, accesses, scatter, self.replication[master], is_master_spatial=True)
                    else:
                        inner = LoopTile(0, [words], [1], self.replication[rng.start])
                if inner.is_master_spatial or rng.start != b:
                    per_tensor[k].append([inner, outer])
                else:  # a single temporal loop: it is both the innermost and the boundary loop
                    outer.accesses, outer.scatter = inner.accesses, inner.scatter
                    per_tensor[k].append([outer])
        tiles_by_tensor = [collapse(per_tensor[k], [keep[k] for keep in nest.keep]) for k in range(len(self.spaces))]
        tiles = [[tiles_by_tensor[k][s] for k in range(len(self.spaces))] for s in range(nest.num_levels)]
        mac_instances = self.replication[0]
        return NestStats(tiles, compute_cycles, mac_instances)


def fast_analysis(problem: Problem, nest: Nest) -> NestStats:
    return FastAnalysis(problem, nest).run()
