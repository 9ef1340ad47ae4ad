"""The embedded mapper's search: capacity-filtered random sampling, then randomized local search.

Candidates are grouped by parallelism (the product of spatial factors), most parallel first: with
`optimization-metrics: [delay, ...]` a group's compute cycles (MACs / parallelism) bound every mapping in it,
so a less parallel group is searched only when no mapping of the more parallel ones is valid, or when
bandwidth throttling made the best found slower than that group's bound.

Within a group:
1. sample random candidates (spatial choice, index factorisation, loop orders, open keep flags), drop those
   whose tiles do not fit (vectorised), and evaluate the rest with the exact model;
2. from the best distinct candidates, hill-climb: move a prime factor of one dimension between two temporal
   levels, swap two loops of a level, or switch to another spatial choice of the group (repairing the
   temporal factors); accept improvements; stop after `patience` consecutive non-improving neighbours.

All randomness comes from one seeded generator, so results do not depend on timing or thread count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from specs.arch import ArchSpec
from specs.errors import SpecError
from specs.mapper import DEFAULT_METRICS, DEFAULT_TIMEOUT, DEFAULT_VICTORY_CONDITION
from specs.mapper import check_metrics as spec_check_metrics

from ..base import EngineError
from ..stats import LayerStats
from .capacity import CapacityModel
from .energy import EnergyTable
from .mapspace import Mapspace, SpatialChoice
from .model import evaluate_mapping
from .problem import Problem

METRICS = {
    "delay": lambda s: float(s.cycles),
    "energy": lambda s: s.total_energy_pJ,
    "edp": lambda s: s.cycles * s.total_energy_pJ,
    "last-level-accesses": lambda s: float(sum(t.reads + t.updates + t.fills for t in s.levels[-1].tensors.values())),
}


def check_metrics(metrics: Sequence[str]) -> None:
    try:
        spec_check_metrics(metrics)
    except SpecError as exc:
        raise EngineError(str(exc)) from None


@dataclass(frozen=True)
class SearchSettings:
    """How much to search, read from a mapper YAML (Timeloop's keys); the defaults are timeloop-mapper's own
    (applications/mapper/mapper.hpp, 2021)."""

    metrics: tuple[str, ...] = DEFAULT_METRICS
    victory_condition: int = DEFAULT_VICTORY_CONDITION  # scales the evaluation budget and the local-search patience
    timeout: int = DEFAULT_TIMEOUT  # consecutive invalid samples before a group is given up (Timeloop: heartbeat/timeout)
    seed: int = 0
    budget_factor: float = 1.5  # exact evaluations = budget_factor x victory_condition (at least 150)
    starts: int = 4  # local searches per group

    @property
    def evaluations(self) -> int:
        return max(150, int(self.budget_factor * self.victory_condition))

    @property
    def patience(self) -> int:
        return max(40, self.victory_condition // 6)


@dataclass
class Candidate:
    spatial: int
    factors: np.ndarray  # [levels, dims] temporal factors
    orders: tuple[tuple[str, ...], ...]  # per level, innermost-first non-unit dims
    keep: int  # index into the keep options

    def key(self) -> tuple:
        return (self.spatial, self.factors.tobytes(), self.orders, self.keep)


@dataclass
class SearchReport:
    evaluated: int = 0
    valid: int = 0
    groups: list[int] = field(default_factory=list)  # parallelism of each searched group


class Search:
    def __init__(self, arch: ArchSpec, energy: EnergyTable, problem: Problem, mapspace: Mapspace,
                 settings: SearchSettings, progress: Callable[[int, int], None] | None = None):
        self.arch, self.energy, self.problem, self.ms = arch, energy, problem, mapspace
        self.settings = settings
        self.rng = np.random.default_rng(settings.seed)
        self.capacity = CapacityModel(arch, problem)
        self.keeps = mapspace.keep_options()
        self.keep_arrays = [np.array(k, dtype=np.int64) for k in self.keeps]
        check_metrics(settings.metrics)
        self.metrics = [METRICS[m] for m in settings.metrics]
        self.cache: dict[tuple, tuple | None] = {}
        self.stats: dict[tuple, LayerStats] = {}
        self.report = SearchReport()
        self.smallest_overflow: dict[int, tuple[int, str]] = {}  # level -> (words, "tensor words + ...")
        self.progress = progress
        self.budget = settings.evaluations

    # ---- evaluation ---------------------------------------------------------------------------------
    def score(self, c: Candidate) -> tuple | None:
        key = c.key()
        if key in self.cache:
            return self.cache[key]
        self.report.evaluated += 1
        self.budget -= 1
        if self.progress:
            self.progress(self.report.evaluated, self.settings.evaluations)
        mapping = self.ms.mapping(self.choices[c.spatial], c.factors, c.orders, self.keeps[c.keep])
        try:
            stats = evaluate_mapping(self.arch, self.energy, self.problem, mapping)
        except EngineError:
            self.cache[key] = None
            return None
        self.report.valid += 1
        value = tuple(metric(stats) for metric in self.metrics)
        self.cache[key] = value
        self.stats[key] = stats
        return value

    # ---- random candidates ---------------------------------------------------------------------------
    def random_orders(self, factors: np.ndarray) -> tuple[tuple[str, ...], ...]:
        orders = []
        for level in range(len(self.ms.levels)):
            active = [d for d, f in zip(self.ms.dims, factors[level]) if f > 1]
            if level == 0:
                orders.append(tuple(active))
                continue
            prefix = [d for d in self.ms.temporal[level].permutation if d in active]
            free = [d for d in active if d not in prefix]
            self.rng.shuffle(free)
            orders.append(tuple(prefix) + tuple(free))
        return tuple(orders)

    def sample(self, indices: list[int], count: int) -> list[Candidate]:
        """Up to `count` random candidates over the given spatial choices whose tiles fit."""
        out: list[Candidate] = []
        per_choice = max(8, count // max(1, len(indices)))
        for idx in indices:
            options = self.options[idx]
            if options is None:
                continue
            picks = [self.rng.integers(0, len(col), size=per_choice) for col in options]
            factors = np.stack([col[p] for col, p in zip(options, picks)], axis=2)  # [n, levels, dims]
            keep_idx = self.rng.integers(0, len(self.keeps), size=per_choice)
            spatial = self.spatial_arrays[idx]
            for k in set(keep_idx.tolist()):
                rows = np.nonzero(keep_idx == k)[0]
                sizes = self.capacity.tile_sizes(factors[rows], spatial) * self.keep_arrays[k][None, :, :]
                used = sizes.sum(axis=2)
                over = self.capacity.overflow(used)
                self._note_overflow(used, over, sizes)
                fits = ~over.any(axis=1)
                for row in rows[fits]:
                    out.append(Candidate(idx, factors[row], self.random_orders(factors[row]), int(k)))
        self.rng.shuffle(out)
        return out[:count]

    def _note_overflow(self, used: np.ndarray, over: np.ndarray, sizes: np.ndarray) -> None:
        """Remember, per level, the smallest overflowing tile set and its tensors' words (for the error message)."""
        for level in np.nonzero(over.any(axis=0))[0]:
            rows = np.nonzero(over[:, level])[0]
            row = int(rows[np.argmin(used[rows, level])])
            words = int(used[row, level])
            if words < self.smallest_overflow.get(int(level), (words + 1, ""))[0]:
                tiles = " + ".join(f"{t} {int(n)}" for t, n in zip(self.ms.tensors, sizes[row, level]) if n)
                self.smallest_overflow[int(level)] = (words, tiles)

    # ---- neighbours --------------------------------------------------------------------------------------
    def _insert(self, order: tuple[str, ...], level: int, dim: str) -> tuple[str, ...]:
        if level == 0:
            return tuple(d for d in self.ms.dims if d in order or d == dim)
        prefix = [d for d in self.ms.temporal[level].permutation]
        if dim in prefix:
            kept = [d for d in order if d in prefix] + [dim]
            kept.sort(key=prefix.index)
            return tuple(kept) + tuple(d for d in order if d not in prefix)
        n_prefix = sum(1 for d in order if d in prefix)
        pos = int(self.rng.integers(n_prefix, len(order) + 1))
        return order[:pos] + (dim,) + order[pos:]

    def _with_factors(self, c: Candidate, factors: np.ndarray) -> Candidate:
        orders = list(c.orders)
        for level in range(len(self.ms.levels)):
            for d_idx, dim in enumerate(self.ms.dims):
                was, now = c.factors[level, d_idx] > 1, factors[level, d_idx] > 1
                if was and not now:
                    orders[level] = tuple(x for x in orders[level] if x != dim)
                elif now and not was:
                    orders[level] = self._insert(orders[level], level, dim)
        return Candidate(c.spatial, factors, tuple(orders), c.keep)

    def move_factor(self, c: Candidate) -> Candidate | None:
        d_idx = int(self.rng.integers(len(self.ms.dims)))
        dim = self.ms.dims[d_idx]
        free = self.ms.free_levels(dim)
        sources = [l for l in free if c.factors[l, d_idx] > 1]
        if len(free) < 2 or not sources:
            return None
        src = int(self.rng.choice(sources))
        dst = int(self.rng.choice([l for l in free if l != src]))
        value = int(c.factors[src, d_idx])
        primes = [p for p in range(2, value + 1) if value % p == 0 and all(p % q for q in range(2, int(p ** 0.5) + 1))]
        p = int(self.rng.choice(primes))
        cap = self.ms.temporal[dst].max_factors.get(dim)
        if cap is not None and c.factors[dst, d_idx] * p > cap:
            return None
        factors = c.factors.copy()
        factors[src, d_idx] //= p
        factors[dst, d_idx] *= p
        return self._with_factors(c, factors)

    def swap_loops(self, c: Candidate) -> Candidate | None:
        levels = []
        for level in range(1, len(self.ms.levels)):
            prefix = self.ms.temporal[level].permutation
            free = [i for i, d in enumerate(c.orders[level]) if d not in prefix]
            if len(free) >= 2:
                levels.append((level, free))
        if not levels:
            return None
        level, free = levels[int(self.rng.integers(len(levels)))]
        i, j = self.rng.choice(free, size=2, replace=False)
        order = list(c.orders[level])
        order[i], order[j] = order[j], order[i]
        orders = list(c.orders)
        orders[level] = tuple(order)
        return Candidate(c.spatial, c.factors, tuple(orders), c.keep)

    def switch_spatial(self, c: Candidate, group: list[int]) -> Candidate | None:
        others = [i for i in group if i != c.spatial and self.options[i] is not None]
        if not others:
            return None
        target = int(self.rng.choice(others))
        old, new = self.choices[c.spatial], self.choices[target]
        factors = c.factors.copy()
        for d_idx, dim in enumerate(self.ms.dims):
            ratio_num, ratio_den = old.product(dim), new.product(dim)  # temporal product must scale by num/den
            free = self.ms.free_levels(dim)
            if not free:
                if ratio_num != ratio_den:
                    return None
                continue
            g = np.gcd(ratio_num, ratio_den)
            grow, shrink = ratio_num // g, ratio_den // g
            for p in _prime_factors(shrink):
                holders = [l for l in free if factors[l, d_idx] % p == 0]
                if not holders:
                    return None
                factors[int(self.rng.choice(holders)), d_idx] //= p
            for p in _prime_factors(grow):
                factors[int(self.rng.choice(free)), d_idx] *= p
        moved = self._with_factors(Candidate(target, c.factors, c.orders, c.keep), factors)
        return moved

    def neighbour(self, c: Candidate, group: list[int]) -> Candidate | None:
        r = self.rng.random()
        if r < 0.6:
            return self.move_factor(c)
        if r < 0.9:
            return self.swap_loops(c)
        return self.switch_spatial(c, group)

    # ---- driver ------------------------------------------------------------------------------------------
    def run(self) -> LayerStats:
        self.choices: list[SpatialChoice] = self.ms.spatial_choices()
        if not self.choices:
            need = (f" and reaches the minimum utilization {self.ms.constraints.min_utilization}"
                    if self.ms.constraints.min_utilization else "")
            raise EngineError(f"no spatial assignment fits the fan-outs, divides the problem dimensions{need}")
        self.options = [self.ms.factor_options(s) for s in self.choices]
        self.spatial_arrays = [self.ms.spatial_array(s) for s in self.choices]
        groups: dict[int, list[int]] = {}
        for i, s in enumerate(self.choices):
            if self.options[i] is not None:
                groups.setdefault(s.parallelism, []).append(i)
        if not groups:
            raise EngineError("the constraints leave no valid index factorisation "
                              f"(problem {dict(zip(self.ms.dims, self.problem.bounds))})")
        best: tuple | None = None
        best_key = None
        macs = int(np.prod(self.problem.bounds))
        for parallelism in sorted(groups, reverse=True):
            if best is not None and self.metrics[0] is METRICS["delay"] and best[0] < macs / parallelism:
                break
            if self.budget <= 0 and best is not None:
                break
            self.report.groups.append(parallelism)
            found = self._search_group(groups[parallelism])
            if found is not None and (best is None or self.cache[found] < best):
                best, best_key = self.cache[found], found
        if best_key is None:
            detail = "; ".join(f"level {self.ms.levels[l]!r} needs at least {w} words in the sampled mappings "
                               f"({tiles}), capacity {self.capacity.capacity[l]}"
                               for l, (w, tiles) in sorted(self.smallest_overflow.items()))
            raise EngineError("no valid mapping found: " + (detail or "every evaluated mapping was rejected by the model"))
        return self.stats[best_key]

    def _search_group(self, group: list[int]) -> tuple | None:
        initial = max(32, self.settings.evaluations // 3)
        invalid_streak = 0
        pool: list[Candidate] = []
        while len(pool) < initial and invalid_streak < self.settings.timeout:
            batch = self.sample(group, initial)
            if not batch:
                invalid_streak += initial
                continue
            pool.extend(batch)
            break
        scored = []
        for c in pool[:initial]:
            value = self.score(c)
            if value is not None:
                scored.append((value, c))
        if not scored:
            return None
        scored.sort(key=lambda vc: vc[0])
        starts, seen = [], set()
        for value, c in scored:
            if c.key() not in seen:
                starts.append((value, c))
                seen.add(c.key())
            if len(starts) == self.settings.starts:
                break
        best_value, best = scored[0]
        per_start = max(1, self.budget // max(1, len(starts)))
        for value, current in starts:
            budget_end = self.budget - per_start
            stale = 0
            while stale < self.settings.patience and self.budget > max(0, budget_end):
                cand = self.neighbour(current, group)
                if cand is None:
                    stale += 1
                    continue
                cand_value = self.score(cand)
                if cand_value is not None and cand_value < value:
                    value, current, stale = cand_value, cand, 0
                else:
                    stale += 1
            if value < best_value:
                best_value, best = value, current
        return best.key()


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out
