"""Sparse cycles of one layer: its pruned weights mapped onto its DENSE mapping (the loop nest).

The nest (outermost first, as in map.txt) is cut at the PE level, the outermost storage level inside a PE
(`ifmap_spad` on our Eyeriss). Loops ABOVE it enumerate PEs (spatial X / Y loops; PE coordinate = mixed-radix value
of that axis' loop variables, first-listed loop most significant) and processing passes (temporal loops). Loops AT
and BELOW it form one pass's work in one PE: one MAC per iteration, each MAC using the weight W[r, s, c, m] whose
indices are mixed-radix sums of the loop variables of R, S, C, M (the outer loop of a dimension is the most
significant digit). A PE skips the MACs whose weight is zero, so PE p needs n[p, t] cycles in pass t, where n
counts its non-zero weights, and a pass lasts as long as its slowest PE:

    cycles = sum over passes t of max over PEs p of n[p, t]

Also reported: dense MACs, sparse (non-zero) MACs, PEs, passes, MACs per pass, dense cycles (= passes x MACs per
pass, each PE doing one MAC per cycle) and the perfectly balanced bound ceil(sparse MACs / PEs), a true lower bound
of `cycles` (the reference reported floor(sparse MACs / PEs)).

Vectorised: the flat weight index is a sum of independent per-loop terms, so it splits into an outer part (which PE
and which pass) and an inner part (within the pass). Loops over other dimensions (N, P, Q) do not change the weight:
outside the PE level they only repeat PEs or passes with identical work, inside it they multiply every count. So the
analysis gathers the non-zero mask once per weight (a [passes_w x PEs_w x inner_w] index array with exactly one
entry per weight) and never touches individual MACs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from math import ceil, prod

import numpy as np

from engines.mapping import Loop, Mapping
from engines.stats import LayerStats

from .kernels import WEIGHT_DIMS

GATHER_CHUNK = 1 << 22  # weights gathered per NumPy step (memory bound, not a model parameter)


class ImbalanceError(ValueError):
    """A mapping / weight tensor pair the analysis cannot use; the message says which part is wrong."""


@dataclass(frozen=True)
class Imbalance:
    """Cycle analysis of ONE problem (one group) on one mapping."""

    pe_level: str
    pes: int
    passes: int
    macs_per_pass: int
    dense_macs: int
    sparse_macs: int
    dense_cycles: int
    cycles: int
    balanced_cycles: int  # ceil(sparse_macs / pes)

    def to_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------------------- PE level


def derive_pe_level(mapping: Mapping, stats: LayerStats | None = None) -> str:
    """The outermost storage level inside a PE.

    With the run's LayerStats: the outermost mapped level with as many instances as the arithmetic level (one per
    PE). From the mapping alone: the level just below the innermost level that has spatial loops (with no spatial
    loop at all there is one PE, and the outermost level is returned: the split then does not change the cycles).
    """
    names = [lvl.level for lvl in mapping.levels]
    if stats is not None and stats.levels:
        per_pe = {lvl.name for lvl in stats.levels[1:] if lvl.instances == stats.levels[0].instances}
        for name in names:
            if name in per_pe:
                return name
    spatial = [i for i, lvl in enumerate(mapping.levels) if lvl.spatial()]
    if not spatial:
        return names[0]
    if spatial[-1] + 1 >= len(names):
        raise ImbalanceError(f"the innermost mapped level {names[-1]!r} fans out spatially; give pe_level explicitly")
    return names[spatial[-1] + 1]


def _cut(mapping: Mapping, pe_level: str) -> tuple[list[Loop], list[Loop]]:
    names = [lvl.level for lvl in mapping.levels]
    if pe_level not in names:
        raise ImbalanceError(f"PE level {pe_level!r} is not a level of the mapping (levels: {', '.join(names)})")
    k = names.index(pe_level)
    outer = [loop for lvl in mapping.levels[:k] for loop in lvl.loops]
    inner = [loop for lvl in mapping.levels[k:] for loop in lvl.loops]
    for loop in inner:
        if loop.spatial:
            raise ImbalanceError(f"spatial loop '{loop}' at or below the PE level {pe_level!r}")
    return outer, inner


# ----------------------------------------------------------------------------------------- index arithmetic


def _dim_strides(loops: list[Loop]) -> list[int]:
    """Each loop's digit weight within its dimension (product of the bounds of inner loops of that dimension)."""
    acc: dict[str, int] = {}
    out = [0] * len(loops)
    for i in range(len(loops) - 1, -1, -1):
        out[i] = acc.get(loops[i].dim, 1)
        acc[loops[i].dim] = out[i] * loops[i].bound
    return out


def _combos(terms: Iterable[tuple[int, int]]) -> np.ndarray:
    """All mixed-radix combinations of (bound, multiplier) terms, first term most significant: sum digit*mult."""
    out = np.zeros(1, dtype=np.int64)
    for bound, mult in terms:
        out = (out[:, None] + np.arange(bound, dtype=np.int64)[None, :] * mult).ravel()
    return out


@dataclass(frozen=True)
class _Entry:
    """One loop of the nest: bound, spatial axis, and flat weight offset per step (None: not a weight dimension)."""

    bound: int
    spatial: str | None
    offset: int | None


class _Nest:
    """The nest of one mapping, split at the PE level, with the flat weight offset of every loop."""

    def __init__(self, mapping: Mapping, weights: np.ndarray, pe_level: str) -> None:
        if weights.ndim != 4:
            raise ImbalanceError(f"weights must be W[R, S, C, M], got a {weights.ndim}-D array")
        bounds = tuple(mapping.factors(d) for d in WEIGHT_DIMS)
        if bounds != weights.shape:
            raise ImbalanceError(f"the mapping's R,S,C,M = {bounds} do not match the weights' shape {weights.shape}")
        outer, inner = _cut(mapping, pe_level)
        loops = outer + inner
        flat = {d: int(np.prod(weights.shape[i + 1 :])) for i, d in enumerate(WEIGHT_DIMS)}
        entries = [
            _Entry(loop.bound, loop.spatial, stride * flat[loop.dim] if loop.dim in flat else None)
            for loop, stride in zip(loops, _dim_strides(loops), strict=True)
        ]
        self.outer, self.inner = entries[: len(outer)], entries[len(outer) :]
        self.nonzero = (weights != 0).ravel()

    @staticmethod
    def offsets(entries: list[_Entry]) -> np.ndarray:
        return _combos((e.bound, e.offset) for e in entries if e.offset is not None)

    def spatial(self) -> list[_Entry]:
        """Outer spatial loops, X axis first then Y (each in nest order): the PE index order."""
        return [e for e in self.outer if e.spatial == "X"] + [e for e in self.outer if e.spatial == "Y"]

    def temporal(self) -> list[_Entry]:
        return [e for e in self.outer if not e.spatial]

    def work(self) -> np.ndarray:
        """Non-zero weights per (weight-distinct pass, weight-distinct PE), for one iteration of the inner
        non-weight loops: one gathered entry per weight."""
        t_off, p_off, i_off = self.offsets(self.temporal()), self.offsets(self.spatial()), self.offsets(self.inner)
        inner = (p_off[:, None] + i_off[None, :]).astype(np.intp)
        rows = max(1, GATHER_CHUNK // inner.size)  # bound the index array's memory on huge layers
        return np.concatenate(
            [
                self.nonzero[t_off[i : i + rows, None, None] + inner[None]].sum(axis=2, dtype=np.int64)
                for i in range(0, t_off.size, rows)
            ]
        )


def _product(entries: list[_Entry], weight: bool | None = None) -> int:
    """Product of the bounds (of the weight loops only, of the others only, or of all)."""
    return prod(e.bound for e in entries if weight is None or (e.offset is not None) == weight)


# ----------------------------------------------------------------------------------------- public API


def analyse(mapping: Mapping, weights: np.ndarray, pe_level: str) -> Imbalance:
    """Cycles and MAC counts of one problem: `weights` is W[R, S, C, M] of that problem (see module docstring)."""
    nest = _Nest(mapping, weights, pe_level)
    work = nest.work()
    rep_inner = _product(nest.inner, weight=False)
    rep_passes = _product(nest.temporal(), weight=False)
    rep_pes = _product(nest.spatial(), weight=False)
    pes, passes, macs_per_pass = _product(nest.spatial()), _product(nest.temporal()), _product(nest.inner)
    sparse = int(work.sum()) * rep_inner * rep_passes * rep_pes
    return Imbalance(
        pe_level=pe_level,
        pes=pes,
        passes=passes,
        macs_per_pass=macs_per_pass,
        dense_macs=pes * passes * macs_per_pass,
        sparse_macs=sparse,
        dense_cycles=passes * macs_per_pass,
        cycles=int(work.max(axis=1).sum()) * rep_inner * rep_passes,
        balanced_cycles=ceil(sparse / pes),
    )


def pe_pass_counts(mapping: Mapping, weights: np.ndarray, pe_level: str) -> np.ndarray:
    """n[pe, pass]: non-zero weights each PE multiplies in each pass (the reference's raw CSV table).

    PE index = x * (number of Y positions) + y, with x / y the mixed-radix values of the X / Y loops; pass index =
    mixed-radix value of the outer temporal loops in nest order. Size PEs x passes: for inspection and tests.
    """
    nest = _Nest(mapping, weights, pe_level)
    work = nest.work()

    def keys(entries: list[_Entry]) -> np.ndarray:
        """Each combination's row/column in `work`: its weight-loop digits (other loops contribute 0)."""
        mult, terms = _product(entries, weight=True), []
        for e in entries:
            if e.offset is None:
                terms.append((e.bound, 0))
            else:
                mult //= e.bound
                terms.append((e.bound, mult))
        return _combos(terms)

    return work[keys(nest.temporal())[None, :], keys(nest.spatial())[:, None]] * _product(nest.inner, weight=False)
