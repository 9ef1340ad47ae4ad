"""Pareto fronts: non-dominated points of an objective matrix (every column minimised), and the brute-force front of
a (small) design space for checking the search."""

from __future__ import annotations

import itertools

import numpy as np


def non_dominated(F: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Boolean mask of the rows of F (n, m) that no other row dominates (<= everywhere, < somewhere). Identical rows
    do not dominate each other: both are kept."""
    F = np.asarray(F, dtype=float)
    keep = np.ones(len(F), dtype=bool)
    for start in range(0, len(F), chunk):
        part = F[start : start + chunk]
        le = np.all(F[None, :, :] <= part[:, None, :], axis=2)
        lt = np.any(F[None, :, :] < part[:, None, :], axis=2)
        keep[start : start + chunk] = ~np.any(le & lt, axis=1)
    return keep


def all_designs(model) -> np.ndarray:
    """Every design of a model's space once (repaired, unique gene vectors); for small spaces only."""
    ranges = [range(int(u) + 1) for u in model.upper]
    size = int(np.prod([len(r) for r in ranges], dtype=float))
    if size > 2_000_000:
        raise ValueError(f"the space has {size} gene vectors: too many to enumerate")
    genes = np.array(list(itertools.product(*ranges)), dtype=np.int64).reshape(-1, len(ranges))
    return np.unique(model.repair(genes), axis=0)
