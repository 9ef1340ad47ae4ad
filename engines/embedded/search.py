"""The embedded mapper's search: a seeded stream of candidate evaluations, cut off by a budget.

Candidates are grouped by parallelism (the product of spatial factors), most parallel first: with
`optimization-metrics: [delay, ...]` a group's compute cycles (MACs / parallelism) bound every mapping in it,
so a group stays closed while the best mapping found is already faster than that bound.

The search runs in rounds; each round visits every open group once (`group.GroupSearch.round`): it evaluates a
few random candidates whose tiles fit (the capacity filter is vectorised) and climbs from the best of them,
climbs from a few greedy constructions, and from the second round on perturbs the group's best mapping and climbs
again (iterated local search). Climbs are first-improvement descents over single moves, with repairs of moves that
overflow a buffer and factor exchanges at local optima (group.py).

Budget and monotonicity (MAPPER_NOTES.md §3): the stream of evaluations depends only on the seed, the mapspace and
the metrics, never on the budget or the victory condition. These only say where the stream is cut: after
`SearchSettings.budget` distinct evaluations (1.5 x victory-condition x `mapspace_scale`), or once `stall`
(victory-condition / 4, at least 120, x `mapspace_scale`) consecutive evaluations have not improved the best
mapping by more than 0.1 %. Both grow with the victory condition, so a larger one evaluates a longer prefix of the
same stream and never returns a worse mapping. Each group draws from its own generator (seeded with the seed and the
group's rank), so results do not depend on timing or thread count.

Among mappings with equal metric values the first one found is returned, unless the caller passes a `tie_break`
key: then the tied mapping with the smallest key wins (ties: every metric equal to 1e-9 relative; the keys of the
mapper YAML's `tie-break` are in tiebreak.py). The key never steers the search, only which tie is returned.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from specs.arch import ArchSpec
from specs.errors import SpecError
from specs.mapper import DEFAULT_METRICS, DEFAULT_TIMEOUT, DEFAULT_VICTORY_CONDITION
from specs.mapper import check_metrics as spec_check_metrics

from ..base import EngineError
from ..stats import LayerStats
from .capacity import CapacityModel
from .energy import EnergyTable
from .group import Candidate, GroupSearch
from .mapspace import Mapspace, SpatialChoice
from .model import evaluate_mapping
from .problem import Problem

METRICS = {
    "delay": lambda s: float(s.cycles),
    "energy": lambda s: s.total_energy_pJ,
    "edp": lambda s: s.cycles * s.total_energy_pJ,
    "last-level-accesses": lambda s: float(sum(t.reads + t.updates + t.fills for t in s.levels[-1].tensors.values())),
}

TIE_RTOL = 1e-9  # metric values this close count as ties for `tie_break`
SIGNIFICANT = 1e-3  # improvements smaller than this (relative) do not restart the stall count


def check_metrics(metrics: Sequence[str]) -> None:
    try:
        spec_check_metrics(metrics)
    except SpecError as exc:
        raise EngineError(str(exc)) from None


@dataclass(frozen=True)
class SearchSettings:
    """How much to search, read from a mapper YAML (Timeloop's keys); the defaults are timeloop-mapper's own
    (applications/mapper/mapper.hpp, 2021). `evaluations` replaces the budget rule by a fixed number of
    evaluations and disables the stall rule (tests, benchmarks)."""

    metrics: tuple[str, ...] = DEFAULT_METRICS
    victory_condition: int = DEFAULT_VICTORY_CONDITION  # scales the evaluation budget and the stall limit
    timeout: int = DEFAULT_TIMEOUT  # consecutive invalid samples before a group stops sampling (Timeloop: heartbeat)
    seed: int = 0
    budget_factor: float = 1.5  # evaluations at most = budget_factor x victory_condition x mapspace scale
    stall_divisor: int = 4  # stop after victory_condition / stall_divisor x scale evaluations without improvement
    evaluations: int | None = None
    tie_break: str = "first"  # among tied mappings (tiebreak.py): the first found, or "weight-balance"

    def budget(self, mapspace: Mapspace) -> int:
        """Distinct evaluations at most: budget_factor x victory-condition x the mapspace's scale (at least 150)."""
        if self.evaluations is not None:
            return self.evaluations
        return max(150, int(self.budget_factor * self.victory_condition * mapspace_scale(mapspace)))

    def stall(self, mapspace: Mapspace) -> int:
        """Stop once this many consecutive evaluations have not improved the best mapping by more than 0.1 %:
        max(120, victory-condition / stall_divisor) x the mapspace's scale, like the budget (MAPPER_NOTES.md §3.3)."""
        if self.evaluations is not None:
            return self.evaluations
        return int(max(120, self.victory_condition // self.stall_divisor) * mapspace_scale(mapspace))


def mapspace_scale(mapspace: Mapspace) -> float:
    """How many times a reference-sized mapspace this one is worth: 1 up to 10^6 mappings (the size of most
    reference layers' mapspaces), then +1 per decade (`Mapspace.log10_size`: spatial choices x index
    factorisations x loop orders x keep options)."""
    return max(1.0, mapspace.log10_size() - 5.0)


def significantly_better(new: tuple, old: tuple) -> bool:
    """Lexicographically better by more than Timeloop's 0.1 % tie tolerance on the first metric that differs."""
    for a, b in zip(new, old, strict=True):
        if not math.isclose(a, b, rel_tol=SIGNIFICANT):
            return a < b
    return False


@dataclass
class SearchReport:
    evaluated: int = 0
    valid: int = 0
    groups: list[int] = field(default_factory=list)  # parallelism of each searched group
    budget: int = 0
    stopped: str = ""  # "budget", "stall" or "exhausted"
    improvements: list[tuple[int, tuple]] = field(default_factory=list)  # (evaluations so far, new best value)


class Search:
    def __init__(
        self,
        arch: ArchSpec,
        energy: EnergyTable,
        problem: Problem,
        mapspace: Mapspace,
        settings: SearchSettings,
        progress: Callable[[int, int], None] | None = None,
        tie_break: Callable[[LayerStats], Any] | None = None,
    ):
        self.arch, self.energy, self.problem, self.ms = arch, energy, problem, mapspace
        self.settings = settings
        self.capacity = CapacityModel(arch, problem)
        self.keeps = mapspace.keep_options()
        self.keep_arrays = [np.array(k, dtype=np.int64) for k in self.keeps]
        check_metrics(settings.metrics)
        self.metrics = [METRICS[m] for m in settings.metrics]
        self.tie_break = tie_break
        self.cache: dict[tuple, tuple | None] = {}
        self.stats: dict[tuple, LayerStats] = {}
        self.report = SearchReport()
        self.smallest_overflow: dict[int, tuple[int, str]] = {}  # level -> (words, "tensor words + ...")
        self.progress = progress
        self.best: tuple | None = None
        self.best_at = 0  # evaluation count when the best last improved significantly

    # ---- evaluation ---------------------------------------------------------------------------------
    def score(self, c: Candidate) -> tuple[tuple | None, bool]:
        """(metric values or None if invalid, whether this was a new evaluation)."""
        key = c.key()
        if key in self.cache:
            return self.cache[key], False
        self.report.evaluated += 1
        if self.progress:
            self.progress(self.report.evaluated, self.report.budget)
        mapping = self.ms.mapping(self.choices[c.spatial], c.factors, c.orders, self.keeps[c.keep])
        try:
            stats = evaluate_mapping(self.arch, self.energy, self.problem, mapping)
        except EngineError:
            self.cache[key] = None
            return None, True
        self.report.valid += 1
        value = tuple(metric(stats) for metric in self.metrics)
        self.cache[key] = value
        self.stats[key] = stats
        if self.best is None or value < self.best:
            if self.best is None or significantly_better(value, self.best):
                self.best_at = self.report.evaluated
            self.best = value
            self.report.improvements.append((self.report.evaluated, value))
        return value, True

    def _note_overflow(self, used: np.ndarray, over: np.ndarray, sizes: np.ndarray) -> None:
        """Remember, per level, the smallest overflowing tile set and its tensors' words (for the error message)."""
        for level in np.nonzero(over.any(axis=0))[0]:
            rows = np.nonzero(over[:, level])[0]
            row = int(rows[np.argmin(used[rows, level])])
            words = int(used[row, level])
            if words < self.smallest_overflow.get(int(level), (words + 1, ""))[0]:
                tiles = " + ".join(
                    f"{t} {int(n)}" for t, n in zip(self.ms.tensors, sizes[row, level], strict=True) if n
                )
                self.smallest_overflow[int(level)] = (words, tiles)

    def columns(self, spatial: int) -> list[np.ndarray]:
        """Per dimension, the temporal factor columns of spatial choice `spatial` (one a group searches)."""
        options = self.options[spatial]
        assert options is not None, f"spatial choice {spatial} has no factorisation and is in no group"
        return options

    def fits(self, c: Candidate) -> bool:
        return self.capacity.fits_one(c.factors, self.spatial_arrays[c.spatial], self.keep_arrays[c.keep])

    # ---- driver ------------------------------------------------------------------------------------------
    def run(self) -> LayerStats:
        self.choices: list[SpatialChoice] = self.ms.spatial_choices()
        if not self.choices:
            need = (
                f" and reaches the minimum utilization {self.ms.constraints.min_utilization}"
                if self.ms.constraints.min_utilization
                else ""
            )
            raise EngineError(f"no spatial assignment fits the fan-outs, divides the problem dimensions{need}")
        self.options = [self.ms.factor_options(s) for s in self.choices]
        self.spatial_arrays = [self.ms.spatial_array(s) for s in self.choices]
        members: dict[int, list[int]] = {}
        for i, s in enumerate(self.choices):
            if self.options[i] is not None:
                members.setdefault(s.parallelism, []).append(i)
        if not members:
            raise EngineError(
                "the constraints leave no valid index factorisation "
                f"(problem {dict(zip(self.ms.dims, self.problem.bounds, strict=True))})"
            )
        budget, stall = self.settings.budget(self.ms), self.settings.stall(self.ms)
        self.report.budget = budget
        groups = [
            GroupSearch(self, p, members[p], np.random.default_rng([self.settings.seed, rank]))
            for rank, p in enumerate(sorted(members, reverse=True))
        ]
        self.report.stopped = "exhausted"
        for _ in self._stream(groups):
            if self.report.evaluated >= budget:
                self.report.stopped = "budget"
                break
            if self.best is not None and self.report.evaluated - self.best_at >= stall:
                self.report.stopped = "stall"
                break
        self.report.groups = [g.parallelism for g in groups if g.rounds]
        if self.best is None:
            detail = "; ".join(
                f"level {self.ms.levels[lv]!r} needs at least {w} words in the sampled mappings "
                f"({tiles}), capacity {self.capacity.capacity[lv]}"
                for lv, (w, tiles) in sorted(self.smallest_overflow.items())
            )
            raise EngineError(
                "no valid mapping found: " + (detail or "every evaluated mapping was rejected by the model")
            )
        return self.stats[self._winner()]

    def _stream(self, groups: list[GroupSearch]) -> Iterator[None]:
        """Rounds over the open groups; yields after every new evaluation. Never reads the budget."""
        macs = int(np.prod(self.problem.bounds))
        delay_first = self.metrics[0] is METRICS["delay"]
        while True:
            active = False
            for group in groups:
                if group.dead or (delay_first and self.best is not None and self.best[0] < macs / group.parallelism):
                    continue
                active = True
                yield from group.round()
            if not active:
                return

    def _winner(self) -> tuple:
        """Key of the best mapping: the first found, or the smallest `tie_break` among ties."""
        assert self.best is not None
        best = self.best
        ties = [key for key, value in self.cache.items() if value is not None and _tied(value, best)]
        tie_break = self.tie_break
        if tie_break is None:
            return next(key for key in ties if self.cache[key] == best)
        return min(ties, key=lambda key: tie_break(self.stats[key]))  # min is stable: earliest among equal keys


def _tied(a: tuple, b: tuple) -> bool:
    return all(math.isclose(x, y, rel_tol=TIE_RTOL) for x, y in zip(a, b, strict=True))
