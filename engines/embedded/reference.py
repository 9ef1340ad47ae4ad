"""Exact reference nest analysis: a step-by-step replay of how Timeloop (2021)
analyses a loop nest, with its point-set rules. Slow but faithful; the fast
closed-form analysis (`analysis.py`) is checked against it.

Semantics reproduced (re-implemented after reading Timeloop's nest analysis; no code copied):

* Working sets are axis-aligned boxes: the operation-space box covered by a loop
  and everything inside it, projected onto each tensor (a bounding box, so
  strided inputs count their gaps).
* A level's fills are deltas: the part of its new working set not in the one it
  held at its previous invocation (same instance). A delta is the whole new box
  when the two boxes differ along more than one tensor axis, when they do not
  overlap, or when the sliding direction changes (gradient reset).
* Temporal loops are extrapolated: iteration 0 is simulated, iteration 1 is
  simulated once and counted (bound-1) times; the state left behind is the one
  of iteration 1. Spatial loops simulate their first three instances and
  translate the rest.
* Spatial fan-out: identical deltas delivered to several instances form one
  multicast; accesses are summed per multicast factor with a scatter count.
"""

from __future__ import annotations

from collections import Counter

from ..base import EngineError
from .nest import Nest
from .problem import Problem
from .tiles import LoopTile, NestStats, collapse

Box = tuple[tuple[int, ...], tuple[int, ...]] | None  # (low, high-exclusive); None = empty
Gradient = tuple[int, int]  # (tensor axis, signed overlap); value 0 = none
NO_GRADIENT: Gradient = (0, 0)
EXTRAPOLATE_SPATIAL_AFTER = 3  # spatial instances simulated before translating the rest


def box_size(box: Box) -> int:
    if box is None:
        return 0
    size = 1
    for lo, hi in zip(*box, strict=True):
        size *= hi - lo
    return size


def subtract(new: Box, old: Box) -> tuple[Box, Gradient]:
    """`new` minus `old` as a box (Timeloop's rules); returns (delta, gradient)."""
    if new is None or old is None:
        return new, NO_GRADIENT
    if new == old:
        return None, NO_GRADIENT
    (nlo, nhi), (olo, ohi) = new, old
    for d in range(len(nlo)):
        if ohi[d] <= nlo[d] or olo[d] >= nhi[d]:
            return new, NO_GRADIENT  # disjoint
    lo, hi = list(nlo), list(nhi)
    gradient, found = NO_GRADIENT, False
    for d in range(len(nlo)):
        if nlo[d] == olo[d] and nhi[d] == ohi[d]:
            continue
        if found:
            return new, NO_GRADIENT  # differs along two axes: no reuse
        found = True
        if olo[d] <= nlo[d]:
            if ohi[d] <= nhi[d]:
                gradient = (d, ohi[d] - nlo[d])
                lo[d] = ohi[d]
            else:
                gradient = NO_GRADIENT
                hi[d] = nlo[d]
        else:
            if ohi[d] < nhi[d]:
                raise EngineError("working-set difference would fracture a box (not supported by Timeloop either)")
            gradient = (d, olo[d] - nhi[d])
            hi[d] = olo[d]
        if lo[d] == hi[d]:
            return None, NO_GRADIENT
    return (tuple(lo), tuple(hi)), gradient


def box_delta(new: Box, old: Box, old_gradient: Gradient) -> tuple[Box, Gradient]:
    """Delta with the gradient-reset rule; returns (delta, gradient to store with `new`)."""
    delta, gradient = subtract(new, old)
    if old_gradient[1] == 0:
        return delta, gradient
    if gradient[1] == 0 and delta is None:
        return delta, gradient
    if gradient[0] == old_gradient[0] and (gradient[1] > 0) == (old_gradient[1] > 0) and gradient[1] != 0:
        return delta, gradient
    return new, NO_GRADIENT


def _translation(a: Box, b: Box) -> tuple[int, ...] | None:
    if a is None and b is None:
        return None
    if a is None or b is None:
        raise EngineError("cannot extrapolate spatial deltas of different shapes")
    shift = tuple(y - x for x, y in zip(a[0], b[0], strict=True))
    if shift != tuple(y - x for x, y in zip(a[1], b[1], strict=True)):
        raise EngineError("cannot extrapolate spatial deltas of different shapes")
    return shift


def _translate(box: Box, shift: tuple[int, ...] | None) -> Box:
    if box is None or shift is None:
        return box
    low, high = box
    return tuple(x + s for x, s in zip(low, shift, strict=True)), tuple(x + s for x, s in zip(high, shift, strict=True))


class _State:
    """Live state of one loop for one spatial instance."""

    __slots__ = ("last", "gradient", "max_size", "accesses", "scatter")

    def __init__(self, n_spaces: int, fanout: int):
        self.last: list[Box] = [None] * n_spaces
        self.gradient: list[Gradient] = [NO_GRADIENT] * n_spaces
        self.max_size = [0] * n_spaces
        self.accesses = [[0] * fanout for _ in range(n_spaces)]
        self.scatter = [[0] * fanout for _ in range(n_spaces)]


class ReferenceAnalysis:
    """Replays the nest; `run()` returns the collapsed per-level tiles."""

    # state of the replay, reset by run()
    epochs: int
    spatial_id: int
    compute_cycles: int

    def __init__(self, problem: Problem, nest: Nest):
        self.problem, self.nest = problem, nest
        loops = nest.loops
        n = len(loops)
        if loops[0].spatial:
            raise EngineError("the innermost loop must be temporal")
        self.is_spatial = [loop.spatial is not None for loop in loops]
        self.is_boundary = [False] * n
        for b in nest.boundaries:
            self.is_boundary[b] = True
        # Spatial instances above each loop, and master (outermost-of-a-run) spatial loops.
        self.replication = [1] * n
        self.is_master = [False] * n
        product, prev_spatial = 1, False
        for level in range(n - 1, -1, -1):
            self.replication[level] = product
            if self.is_spatial[level]:
                self.is_master[level] = not prev_spatial
                product *= loops[level].bound
            prev_spatial = self.is_spatial[level]
        self.fanout = [1] * n
        for level in range(n):
            if self.is_master[level]:
                fan, inner = 1, level
                while inner >= 0 and self.is_spatial[inner]:
                    fan *= loops[inner].bound
                    inner -= 1
                self.fanout[level] = fan
        # Per-loop dimension scales (product of inner bounds) and box extents.
        n_dims = len(problem.dims)
        scale = [1] * n_dims
        self.dim_scale: list[list[int]] = []
        self.extent: list[tuple[int, ...]] = []
        for loop in loops:
            self.dim_scale.append(list(scale))
            scale[loop.dim] *= loop.bound
            self.extent.append(tuple(s - 1 for s in scale))
        self.spaces = [[list(expr) for expr in ds.projection] for ds in problem.data_spaces]

    # ---- point sets

    def _boxes(self, level: int) -> list[Box]:
        lo = self.transform
        hi = [t + e for t, e in zip(lo, self.extent[level], strict=True)]
        boxes: list[Box] = []
        for space in self.spaces:
            blo, bhi = [], []
            for expr in space:
                a = b = 0
                for dim, coef in expr:
                    if coef >= 0:
                        a += coef * lo[dim]
                        b += coef * hi[dim]
                    else:
                        a += coef * hi[dim]
                        b += coef * lo[dim]
                blo.append(a)
                bhi.append(b + 1)
            boxes.append((tuple(blo), tuple(bhi)))
        return boxes

    def _state(self, level: int) -> _State:
        states = self.states[level]
        state = states.get(self.spatial_id)
        if state is None:
            state = states[self.spatial_id] = _State(len(self.spaces), self.fanout[level])
        return state

    # ---- recursion

    def _deltas(self, level: int) -> list[Box]:
        state = self._state(level)
        if self.is_spatial[level]:
            boxes = self._spatial(level, state)
        else:
            boxes = self._temporal(level, state)
        if self.is_boundary[level] or self.is_master[level]:
            for k, box in enumerate(boxes):
                size = box_size(box)
                if size > state.max_size[k]:
                    state.max_size[k] = size
        deltas = []
        for k, box in enumerate(boxes):
            delta, state.gradient[k] = box_delta(box, state.last[k], state.gradient[k])
            state.last[k] = box
            deltas.append(delta)
        return deltas

    def _temporal(self, level: int, state: _State) -> list[Box]:
        boxes = self._boxes(level)
        loop = self.nest.loops[level]
        if level == 0:
            body = loop.bound * self.epochs
            if self.spatial_id == 0:
                self.compute_cycles += body
            for k in range(len(self.spaces)):
                state.accesses[k][0] += body
                state.scatter[k][0] = 1
            return boxes
        dim, step = loop.dim, self.dim_scale[level][loop.dim]
        saved = self.transform[dim]
        sizes = [(self._deltas(level - 1), 1)]
        if loop.bound >= 2:
            self.transform[dim] += step
            saved_epochs = self.epochs
            self.epochs *= loop.bound - 1
            sizes.append((self._deltas(level - 1), loop.bound - 1))
            self.epochs = saved_epochs
        self.transform[dim] = saved
        if self.is_boundary[level - 1]:
            for k in range(len(self.spaces)):
                total = sum(box_size(d[k]) * times for d, times in sizes)
                state.accesses[k][0] += total * self.epochs
                state.scatter[k][0] = 1
        return boxes

    def _spatial(self, level: int, state: _State) -> list[Box]:
        boxes = self._boxes(level)
        fan = self.fanout[level]
        self.spatial_id *= fan
        deltas: list[list[Box]] = [[] for _ in range(fan)]  # _fill sets every instance's boxes
        self._fill(level, 0, deltas)
        self.spatial_id //= fan
        for k in range(len(self.spaces)):
            groups = Counter(d[k] for d in deltas)
            acc = [0] * fan
            scatter = [0] * fan
            for box, count in groups.items():
                acc[count - 1] += box_size(box) * self.epochs
                scatter[count - 1] += 1
            for m in range(fan):
                state.accesses[k][m] += acc[m]
                if acc[m] and not state.scatter[k][m]:
                    state.scatter[k][m] = scatter[m]
        return boxes

    def _fill(self, level: int, base: int, deltas: list) -> None:
        loop = self.nest.loops[level]
        base *= loop.bound
        dim, step = loop.dim, self.dim_scale[level][loop.dim]
        saved, orig_id = self.transform[dim], self.spatial_id
        if self.is_spatial[level - 1]:
            for idx in range(loop.bound):
                self._fill(level - 1, base + idx, deltas)
                self.transform[dim] += step
        else:
            runs = min(EXTRAPOLATE_SPATIAL_AFTER, loop.bound)
            for idx in range(runs):
                self.spatial_id = orig_id + base + idx
                deltas[base + idx] = self._deltas(level - 1)
                self.transform[dim] += step
            if loop.bound > runs:
                shifts = [
                    _translation(a, b) for a, b in zip(deltas[base + runs - 2], deltas[base + runs - 1], strict=True)
                ]
                for idx in range(runs, loop.bound):
                    deltas[base + idx] = [
                        _translate(box, s) for box, s in zip(deltas[base + idx - 1], shifts, strict=True)
                    ]
        self.transform[dim] = saved
        self.spatial_id = orig_id

    # ---- driver

    def run(self) -> NestStats:
        n = len(self.nest.loops)
        self.states: list[dict[int, _State]] = [{} for _ in range(n)]
        self.transform = [0] * len(self.problem.dims)
        self.epochs = 1
        self.spatial_id = 0
        self.compute_cycles = 0
        self._deltas(n - 1)
        per_level: list[list[list[LoopTile]]] = []  # [storage level][tensor][valid loop]
        for lvl in range(self.nest.num_levels):
            valid = [
                loop_index
                for loop_index in self.nest.level_range(lvl)
                if not self.is_spatial[loop_index] or self.is_master[loop_index]
            ]
            per_level.append(
                [
                    [
                        LoopTile(
                            size=self.states[loop_index][0].max_size[k],
                            accesses=list(self.states[loop_index][0].accesses[k]),
                            scatter=list(self.states[loop_index][0].scatter[k]),
                            replication=self.replication[loop_index],
                            is_master_spatial=self.is_master[loop_index],
                        )
                        for loop_index in valid
                    ]
                    for k in range(len(self.spaces))
                ]
            )
        tiles_by_tensor = [
            collapse([per_level[lvl][k] for lvl in range(len(per_level))], [keep[k] for keep in self.nest.keep])
            for k in range(len(self.spaces))
        ]
        tiles = [[tiles_by_tensor[k][lvl] for k in range(len(self.spaces))] for lvl in range(len(per_level))]
        first_valid = 0  # innermost loop is temporal, so the MAC replication is its own
        mac_instances = self.replication[first_valid] * self.fanout[first_valid]
        return NestStats(tiles, self.compute_cycles, mac_instances)


def reference_analysis(problem: Problem, nest: Nest) -> NestStats:
    return ReferenceAnalysis(problem, nest).run()
