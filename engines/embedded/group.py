"""The search within one parallelism group of the embedded mapper (`search.Search` drives it).

A candidate mapping is a spatial choice of the group, temporal factors per (storage level, dimension), the loop
order of each temporal level and a keep option. `GroupSearch.round` yields after every new exact evaluation; all
its randomness comes from the group's own generator, so its sequence of evaluations depends only on the seed and
the mapspace (MAPPER_NOTES.md §3).

Neighbourhood of a candidate (`neighbourhood`): every move of one prime factor, or of the whole factor, of one
dimension between two free temporal levels, every swap of two free loops of a level, the switches to the
SWITCH_TRIES nearest and to RANDOM_SWITCHES random other spatial choices (temporal factors repaired) and to a few
other keep options; at a local optimum of those, every exchange of a prime factor of one dimension for one of
another dimension (or another prime of the same one) between two levels. A neighbour whose tiles do not fit is
repaired by pushing factors out of its overflowing levels (`repair`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .search import Search

FIRST_SAMPLES = 16  # fitting random candidates evaluated in a group's first round (the best one is climbed)
LATER_SAMPLES = 8  # ... in each later round
FIRST_GREEDY = 3  # greedy constructions climbed in the first round
LATER_GREEDY = 2  # ... in each later round
GREEDY_TRIES = 8  # attempts at a greedy construction that fits
KICK_MOVES = 3  # at most this many random moves perturb a group's best before it is climbed again
REPAIR_STEPS = 3  # factor moves that may make room for a neighbour whose tiles do not fit
SWITCH_TRIES = 6  # nearest spatial choices (and random keep options) in a neighbourhood
RANDOM_SWITCHES = 4  # random other spatial choices in a neighbourhood (a swap of whole factors is often far)
SAMPLE_BATCH = 256  # random draws per vectorised capacity check


@dataclass
class Candidate:
    spatial: int  # index into Search.choices
    factors: np.ndarray  # [levels, dims] temporal factors
    orders: tuple[tuple[str, ...], ...]  # per level, innermost-first non-unit dims
    keep: int  # index into the keep options

    def key(self) -> tuple:
        return (self.spatial, self.factors.tobytes(), self.orders, self.keep)


class GroupSearch:
    """The search within one parallelism group: its own random generator, sampler state and best mapping."""

    def __init__(self, search: Search, parallelism: int, members: list[int], rng: np.random.Generator):
        self.s, self.ms = search, search.ms
        self.parallelism, self.members, self.rng = parallelism, members, rng
        self.best: tuple[tuple, Candidate] | None = None
        self.invalid_streak = 0
        self.sampling = True  # False once `timeout` consecutive draws were invalid
        self.dead = False
        self.rounds = 0
        self.strength = 1  # random moves of the next kick
        self._nearest: dict[int, list[int]] = {}
        self._log_factors: np.ndarray | None = None

    # ---- one round -----------------------------------------------------------------------------------
    def round(self) -> Iterator[None]:
        """One round: climb from the best of a few random samples, from greedy constructions, and (from the second
        round on) from a perturbation of the group's best. Marks the group dead if it evaluated nothing new."""
        before = self.s.report.evaluated
        self.rounds += 1
        first = self.rounds == 1
        sampled: list[tuple[tuple, Candidate]] = []
        for c in self.draw(FIRST_SAMPLES if first else LATER_SAMPLES) if self.sampling else []:
            value, new = self.s.score(c)
            if new:
                yield
            if value is None:
                self.invalid_streak += 1
                self.sampling = self.invalid_streak < self.s.settings.timeout
                continue
            self.invalid_streak = 0
            sampled.append((value, c))
            self._note(value, c)
        if sampled:
            yield from self.climb(*min(sampled, key=lambda vc: vc[0])[::-1])
        for _ in range(FIRST_GREEDY if first else LATER_GREEDY):
            start = next((c for c in (self.greedy() for _ in range(GREEDY_TRIES)) if c is not None), None)
            if start is None:
                break
            yield from self._climb_from(start)
        if not first and self.best is not None:
            incumbent = self.best[0]
            yield from self._climb_from(self.kick(self.best[1], self.strength))
            # variable neighbourhood: kick harder after each failure, restart with one move after a success
            self.strength = 1 if self.best[0] < incumbent else self.strength % KICK_MOVES + 1
        if self.s.report.evaluated == before:  # nothing new left to find here
            self.dead = True

    def _climb_from(self, start: Candidate) -> Iterator[None]:
        value, new = self.s.score(start)
        if new:
            yield
        if value is not None:
            self._note(value, start)
            yield from self.climb(start, value)

    def _note(self, value: tuple, c: Candidate) -> None:
        if self.best is None or value < self.best[0]:
            self.best = (value, c)

    def climb(self, current: Candidate, value: tuple) -> Iterator[None]:
        """First-improvement descent: try the neighbours of `current` in random order (a neighbour whose tiles do
        not fit is first `repair`ed) and move to the first better one; at a local optimum of single moves, try the
        exchanges of factors between two levels; stop when no neighbour of either kind is better."""
        exchanges = False
        while True:
            for cand in self.neighbourhood(current, exchanges):
                if cand.key() not in self.s.cache and not self.s.fits(cand):  # evaluated ones all fit
                    repaired = self.repair(cand)
                    if repaired is None:
                        continue
                    cand = repaired
                cand_value, new = self.s.score(cand)
                if new:
                    yield
                if cand_value is not None and cand_value < value:
                    value, current, exchanges = cand_value, cand, False
                    self._note(value, current)
                    break
            else:
                if exchanges:
                    return
                exchanges = True

    def neighbourhood(self, c: Candidate, exchanges: bool = False) -> Iterator[Candidate]:
        """In random order: every single-factor move and loop swap of `c` and a few spatial and keep switches, or
        (`exchanges`) every exchange of a prime factor of one dimension for one of another between two levels."""
        moves: list[tuple] = []
        held = []  # (dimension, level, prime) for every prime factor a free level holds
        for d_idx, dim in enumerate(self.ms.dims):
            for level in self.ms.free_levels(dim):
                held += [(d_idx, level, p) for p in sorted(set(_prime_factors(int(c.factors[level, d_idx]))))]
        if exchanges:
            for d_idx, src, p in held:
                for e_idx, dst, q in held:
                    if (
                        (e_idx != d_idx or p != q)
                        and src < dst
                        and self._may_move(c, d_idx, dst, p)
                        and self._may_move(c, e_idx, src, q)
                    ):
                        moves.append(("exchange", d_idx, src, dst, p, e_idx, q))
        else:
            for d_idx, src, p in held:
                moves += [
                    ("factor", d_idx, src, dst, p)
                    for dst in self.ms.free_levels(self.ms.dims[d_idx])
                    if dst != src and self._may_move(c, d_idx, dst, p)
                ]
            for d_idx, dim in enumerate(self.ms.dims):  # a dimension's whole factor at once (crosses plateaus)
                for src in self.ms.free_levels(dim):
                    whole = int(c.factors[src, d_idx])
                    if whole > 1 and len(_prime_factors(whole)) > 1:
                        moves += [
                            ("factor", d_idx, src, dst, whole)
                            for dst in self.ms.free_levels(dim)
                            if dst != src and self._may_move(c, d_idx, dst, whole)
                        ]
            for level in range(1, len(self.ms.levels)):
                prefix = self.ms.temporal[level].permutation
                free_pos = [i for i, d in enumerate(c.orders[level]) if d not in prefix]
                moves += [("swap", level, i, j) for a, i in enumerate(free_pos) for j in free_pos[a + 1 :]]
            moves += [("spatial", target) for target in self.nearest(c.spatial)]
            moves += [("spatial", None)] * min(RANDOM_SWITCHES, len(self.members) - 1)  # any choice, for variety
            moves += [("keep",)] * min(SWITCH_TRIES, len(self.s.keeps) - 1)
        for k in self.rng.permutation(len(moves)):
            cand = self.apply(c, moves[int(k)])
            if cand is not None:
                yield cand

    def repair(self, c: Candidate) -> Candidate | None:
        """`c` with prime factors pushed out of its innermost overflowing level until its tiles fit (at most
        REPAIR_STEPS moves, each a random factor at or below that level moved to the nearest free level above it),
        or None. This connects mappings that differ by a move plus the moves that make room for it."""
        s = self.s
        for _ in range(REPAIR_STEPS + 1):
            used = s.capacity.usage(c.factors[None], s.spatial_arrays[c.spatial], s.keep_arrays[c.keep])
            over = np.nonzero(s.capacity.overflow(used)[0])[0]
            if not len(over):
                return c
            level = int(over[0])
            options = []
            for d_idx, dim in enumerate(self.ms.dims):
                above = [lv for lv in self.ms.free_levels(dim) if lv > level]
                options += [
                    (d_idx, src, above[0])
                    for src in self.ms.free_levels(dim)
                    if src <= level and c.factors[src, d_idx] > 1 and above
                ]
            if not options:
                return None
            d_idx, src, dst = options[int(self.rng.integers(len(options)))]
            p = int(self.rng.choice(_prime_factors(int(c.factors[src, d_idx]))))
            if not self._may_move(c, d_idx, dst, p):
                return None
            factors = c.factors.copy()
            factors[src, d_idx] //= p
            factors[dst, d_idx] *= p
            c = self._with_factors(c, factors)
        return None

    def _may_move(self, c: Candidate, d_idx: int, dst: int, p: int) -> bool:
        """Can level `dst` (free for this dimension) take a factor p more of dimension d_idx under its cap?"""
        dim = self.ms.dims[d_idx]
        cap = self.ms.temporal[dst].max_factors.get(dim)
        return dim not in self.ms.temporal[dst].factors and (cap is None or c.factors[dst, d_idx] * p <= cap)

    def apply(self, c: Candidate, move: tuple) -> Candidate | None:
        kind = move[0]
        if kind == "factor":
            _, d_idx, src, dst, p = move
            factors = c.factors.copy()
            factors[src, d_idx] //= p
            factors[dst, d_idx] *= p
            return self._with_factors(c, factors)
        if kind == "exchange":
            _, d_idx, src, dst, p, e_idx, q = move
            factors = c.factors.copy()
            factors[src, d_idx] //= p
            factors[dst, d_idx] *= p
            factors[dst, e_idx] //= q
            factors[src, e_idx] *= q
            return self._with_factors(c, factors)
        if kind == "swap":
            _, level, i, j = move
            order = list(c.orders[level])
            order[i], order[j] = order[j], order[i]
            orders = list(c.orders)
            orders[level] = tuple(order)
            return Candidate(c.spatial, c.factors, tuple(orders), c.keep)
        if kind == "spatial":
            return self.switch_spatial(c, move[1])
        return self.switch_keep(c)

    def kick(self, c: Candidate, moves: int) -> Candidate:
        """`c` perturbed: half of the time one dimension's factors drawn afresh, else `moves` random moves."""
        if self.rng.random() < 0.5:
            moved = self.resample_dimension(c)
            return moved if moved is not None else c
        for _ in range(moves):
            moved = self.neighbour(c)
            if moved is not None and self.s.fits(moved):
                c = moved
        return c

    def resample_dimension(self, c: Candidate) -> Candidate | None:
        """`c` with one random dimension's temporal factors drawn afresh among those that let the tiles fit."""
        s = self.s
        d_idx = int(self.rng.integers(len(self.ms.dims)))
        column = s.columns(c.spatial)[d_idx]
        if len(column) < 2:
            return None
        trial = np.repeat(c.factors[None], len(column), axis=0)
        trial[:, :, d_idx] = column
        fits = s.capacity.fits(trial, s.spatial_arrays[c.spatial], s.keep_arrays[c.keep])
        fits &= (column != c.factors[:, d_idx]).any(axis=1)
        rows = np.nonzero(fits)[0]
        if not len(rows):
            return None
        return self._with_factors(c, trial[int(self.rng.choice(rows))])

    # ---- random candidates ---------------------------------------------------------------------------
    def draw(self, count: int) -> list[Candidate]:
        """The next `count` random candidates whose tiles fit (fewer if `timeout` consecutive draws do not)."""
        s = self.s
        out: list[Candidate] = []
        while len(out) < count and self.sampling:
            n = SAMPLE_BATCH
            which = self.rng.integers(0, len(self.members), size=n)
            keep_idx = self.rng.integers(0, len(s.keeps), size=n)
            draws: list[np.ndarray | None] = [None] * n
            fits = np.zeros(n, dtype=bool)
            for m in np.unique(which):
                rows = np.nonzero(which == m)[0]
                idx = self.members[int(m)]
                options = s.columns(idx)
                picks = [self.rng.integers(0, len(col), size=len(rows)) for col in options]
                # [rows, levels, dims]
                factors = np.stack([col[p] for col, p in zip(options, picks, strict=True)], axis=2)
                keep = s.keep_arrays
                for k in np.unique(keep_idx[rows]):
                    sub = np.nonzero(keep_idx[rows] == k)[0]
                    sizes = s.capacity.tile_sizes(factors[sub], s.spatial_arrays[idx]) * keep[int(k)][None, :, :]
                    used = sizes.sum(axis=2)
                    over = s.capacity.overflow(used)
                    s._note_overflow(used, over, sizes)
                    fits[rows[sub]] = ~over.any(axis=1)
                for j, row in enumerate(rows):
                    draws[row] = factors[j]
            for row in range(n):
                if not fits[row]:
                    self.invalid_streak += 1
                    if self.invalid_streak >= s.settings.timeout:
                        self.sampling = False
                        break
                    continue
                self.invalid_streak = 0
                drawn = draws[row]
                assert drawn is not None  # every row of the batch was drawn
                out.append(
                    Candidate(self.members[int(which[row])], drawn, self.random_orders(drawn), int(keep_idx[row]))
                )
                if len(out) == count:
                    break
        return out

    def greedy(self) -> Candidate | None:
        """A candidate built innermost level first, each level's dimensions in random order, each taking the largest
        factor that still lets the tiles fit (the last free level of a dimension takes what remains); None if some
        level cannot fit. Random orders of the dimensions give each kind of reuse (which tensor the inner buffers
        hold) an even chance, where uniform samples mostly land in a few wide basins."""
        s, ms = self.s, self.ms
        idx = self.members[int(self.rng.integers(len(self.members)))]
        options = s.columns(idx)
        keep = int(self.rng.integers(len(s.keeps)))
        spatial = s.spatial_arrays[idx]
        factors = np.ones((len(ms.levels), len(ms.dims)), dtype=np.int64)
        rest = []
        for d_idx, dim in enumerate(ms.dims):
            fixed = [lv for lv in range(len(ms.levels)) if lv not in ms.free_levels(dim)]
            factors[fixed, d_idx] = options[d_idx][0, fixed]
            rest.append(int(options[d_idx][0].prod() // max(1, int(np.prod(options[d_idx][0, fixed])))))
        for level in range(len(ms.levels)):
            for d_idx in self.rng.permutation(len(ms.dims)):
                dim = ms.dims[int(d_idx)]
                free = ms.free_levels(dim)
                if level not in free or rest[d_idx] == 1:
                    continue
                if level == free[-1]:
                    values = np.array([rest[d_idx]])
                else:
                    cap = ms.temporal[level].max_factors.get(dim, rest[d_idx])
                    values = np.array([v for v in range(1, rest[d_idx] + 1) if rest[d_idx] % v == 0 and v <= cap])
                trial = np.repeat(factors[None], len(values), axis=0)
                trial[:, level, d_idx] = values
                # factors not chosen yet are 1, so every level's tile is a lower bound of its final size
                fitting = values[s.capacity.fits(trial, spatial, s.keep_arrays[keep])]
                if not len(fitting):
                    return None
                value = int(fitting[-1])
                factors[level, d_idx] = value
                rest[d_idx] //= value
        return Candidate(idx, factors, self.random_orders(factors), keep)

    def random_orders(self, factors: np.ndarray) -> tuple[tuple[str, ...], ...]:
        orders = []
        for level in range(len(self.ms.levels)):
            active = [d for d, f in zip(self.ms.dims, factors[level], strict=True) if f > 1]
            if level == 0:
                orders.append(tuple(active))
                continue
            prefix = [d for d in self.ms.temporal[level].permutation if d in active]
            free = [d for d in active if d not in prefix]
            self.rng.shuffle(free)
            orders.append(tuple(prefix) + tuple(free))
        return tuple(orders)

    # ---- neighbours --------------------------------------------------------------------------------------
    def neighbour(self, c: Candidate) -> Candidate | None:
        """One random move (for kicks): a factor move, a loop swap, a spatial switch or a keep switch."""
        r = self.rng.random()
        if r < 0.6:
            return self.move_factor(c)
        if r < 0.85:
            return self.swap_loops(c)
        if r < 0.95 or len(self.s.keeps) == 1:
            return self.switch_spatial(c)
        return self.switch_keep(c)

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
        """`c` with other temporal factors: loops that became 1 leave their level's order, new ones are inserted."""
        orders = list(c.orders)
        for level, d_idx in zip(*np.nonzero((c.factors > 1) != (factors > 1)), strict=True):
            dim = self.ms.dims[d_idx]
            if factors[level, d_idx] == 1:
                orders[level] = tuple(x for x in orders[level] if x != dim)
            else:
                orders[level] = self._insert(orders[level], int(level), dim)
        return Candidate(c.spatial, factors, tuple(orders), c.keep)

    def move_factor(self, c: Candidate) -> Candidate | None:
        d_idx = int(self.rng.integers(len(self.ms.dims)))
        dim = self.ms.dims[d_idx]
        free = self.ms.free_levels(dim)
        sources = [lv for lv in free if c.factors[lv, d_idx] > 1]
        if len(free) < 2 or not sources:
            return None
        src = int(self.rng.choice(sources))
        dst = int(self.rng.choice([lv for lv in free if lv != src]))
        p = int(self.rng.choice(_prime_factors(int(c.factors[src, d_idx]))))
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

    def nearest(self, member: int) -> list[int]:
        """The SWITCH_TRIES spatial choices of the group closest to `member` (fewest factors of 2 moved; sum of
        |log2| differences of the per-slot, per-axis, per-dimension factors), ties in mapspace order."""
        if member not in self._nearest:
            if self._log_factors is None:
                keys = sorted(
                    {(slot, dim) for i in self.members for slot, dims in self.s.choices[i].factors for dim, _ in dims}
                )
                col = {key: j for j, key in enumerate(keys)}
                table = np.zeros((len(self.members), len(keys)))
                for row, i in enumerate(self.members):
                    for slot, dims in self.s.choices[i].factors:
                        for dim, f in dims:
                            table[row, col[(slot, dim)]] = math.log2(f)
                self._log_factors = table
            row = self.members.index(member)
            distance = np.abs(self._log_factors - self._log_factors[row]).sum(axis=1)
            distance[row] = np.inf
            order = np.argsort(distance, kind="stable")[: min(SWITCH_TRIES, len(self.members) - 1)]
            self._nearest[member] = [self.members[int(k)] for k in order]
        return self._nearest[member]

    def switch_spatial(self, c: Candidate, target: int | None = None) -> Candidate | None:
        """`c` on another spatial choice (random if None), the temporal factors repaired at random free levels."""
        if target is None:
            others = [i for i in self.members if i != c.spatial]
            if not others:
                return None
            target = int(self.rng.choice(others))
        old, new = self.s.choices[c.spatial], self.s.choices[target]
        factors = c.factors.copy()
        for d_idx, dim in enumerate(self.ms.dims):
            ratio_num, ratio_den = old.product(dim), new.product(dim)  # temporal product must scale by num/den
            free = self.ms.free_levels(dim)
            if not free:
                if ratio_num != ratio_den:
                    return None
                continue
            g = math.gcd(ratio_num, ratio_den)
            grow, shrink = ratio_num // g, ratio_den // g
            for p in _prime_factors(shrink):
                holders = [lv for lv in free if factors[lv, d_idx] % p == 0]
                if not holders:
                    return None
                factors[int(self.rng.choice(holders)), d_idx] //= p
            for p in _prime_factors(grow):
                factors[int(self.rng.choice(free)), d_idx] *= p
        return self._with_factors(Candidate(target, c.factors, c.orders, c.keep), factors)

    def switch_keep(self, c: Candidate) -> Candidate | None:
        target = int(self.rng.integers(len(self.s.keeps) - 1))
        return Candidate(c.spatial, c.factors, c.orders, target + (target >= c.keep))


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out
