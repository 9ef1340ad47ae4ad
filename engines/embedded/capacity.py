"""Vectorised tile sizes and capacity checks for batches of candidate factorisations."""

from __future__ import annotations

import numpy as np

from specs.arch import ArchSpec

from .problem import Problem


class CapacityModel:
    """Per storage level and tensor, the tile size a batch of candidates would need.

    Level i's tile spans the temporal loops of levels <= i and the spatial fan-outs of levels <= i.
    """

    def __init__(self, arch: ArchSpec, problem: Problem):
        self.capacity = np.array(
            [spec.effective_size if spec.effective_size is not None else -1 for spec in arch.storage], dtype=np.int64
        )
        n_dims = len(problem.dims)
        self.coefs = []  # per tensor: [axes, dims] absolute coefficients
        for ds in problem.data_spaces:
            matrix = np.zeros((len(ds.projection), n_dims), dtype=np.int64)
            for axis, expr in enumerate(ds.projection):
                for dim, coef in expr:
                    matrix[axis, dim] += abs(coef)
            self.coefs.append(matrix)
        # all tensors' axes stacked, for one candidate at a time (`fits_one`)
        self.stacked = np.concatenate(self.coefs, axis=0).T  # [dims, axes of all tensors]
        self.starts = np.cumsum([0] + [len(m) for m in self.coefs[:-1]])
        self.bounded = self.capacity >= 0

    def tile_sizes(self, temporal: np.ndarray, spatial: np.ndarray) -> np.ndarray:
        """temporal [n, levels, dims], spatial [levels, dims] -> sizes [n, levels, tensors]."""
        extents = np.cumprod(temporal * spatial[None, :, :], axis=1)  # [n, levels, dims]
        sizes = []
        for matrix in self.coefs:
            widths = 1 + np.einsum("nld,ad->nla", extents - 1, matrix)
            sizes.append(np.prod(widths, axis=2))
        return np.stack(sizes, axis=2)

    def usage(self, temporal: np.ndarray, spatial: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Words used per level [n, levels] by the kept tiles. keep: [levels, tensors] of 0/1."""
        return (self.tile_sizes(temporal, spatial) * keep[None, :, :]).sum(axis=2)

    def overflow(self, used: np.ndarray) -> np.ndarray:
        """Boolean [n, levels]: a bounded level is over capacity."""
        return (used > self.capacity[None, :]) & (self.capacity >= 0)[None, :]

    def fits_one(self, temporal: np.ndarray, spatial: np.ndarray, keep: np.ndarray) -> bool:
        """`fits` for one candidate: temporal and spatial [levels, dims], keep [levels, tensors]."""
        extents = np.cumprod(temporal * spatial, axis=0)
        widths = (extents - 1) @ self.stacked + 1
        used = (np.multiply.reduceat(widths, self.starts, axis=1) * keep).sum(axis=1)
        return not ((used > self.capacity) & self.bounded).any()

    def fits(self, temporal: np.ndarray, spatial: np.ndarray, keep: np.ndarray) -> np.ndarray:
        """Boolean [n]: every bounded level holds its kept tiles."""
        return ~self.overflow(self.usage(temporal, spatial, keep)).any(axis=1)
