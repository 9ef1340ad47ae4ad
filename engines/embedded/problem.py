"""The model's view of a problem (specs.problem.Problem): dimensions and bounds by index, projections with the
coefficient values resolved. Generic over the shape: nothing is CNN-specific."""

from __future__ import annotations

from collections.abc import Mapping as MappingT
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any

from specs import problem as spec

from ..base import EngineError

# One projection term: (problem dimension index, coefficient value).
Term = tuple[int, int]


@dataclass(frozen=True)
class DataSpace:
    """A tensor: one projection expression (a sum of terms) per tensor dimension."""

    name: str
    projection: tuple[tuple[Term, ...], ...]
    read_write: bool = False

    def dims_used(self) -> frozenset[int]:
        """Problem dimensions this tensor's index depends on."""
        return frozenset(dim for expr in self.projection for dim, _ in expr)


@dataclass(frozen=True)
class Problem:
    """A problem instance: named dimensions with bounds, and the tensors over them."""

    name: str
    dims: tuple[str, ...]
    bounds: tuple[int, ...]
    data_spaces: tuple[DataSpace, ...]
    coefficients: MappingT[str, int]
    densities: tuple[float, ...] = ()  # per data space; empty = dense

    @property
    def macs(self) -> int:
        return prod(self.bounds)

    def dim_index(self, name: str) -> int:
        try:
            return self.dims.index(name)
        except ValueError:
            raise EngineError(
                f"problem {self.name!r} has no dimension {name!r}; dimensions are {list(self.dims)}"
            ) from None

    def bound(self, name: str) -> int:
        return self.bounds[self.dim_index(name)]

    def data_space(self, name: str) -> DataSpace:
        for ds in self.data_spaces:
            if ds.name == name:
                return ds
        raise EngineError(f"problem {self.name!r} has no data space {name!r}")

    @property
    def tensor_names(self) -> tuple[str, ...]:
        return tuple(ds.name for ds in self.data_spaces)

    def density(self, index: int) -> float:
        return self.densities[index] if self.densities else 1.0


def load_problem(path: str | Path) -> Problem:
    """Read a Timeloop problem YAML (v0.3 or v0.4) for the model."""
    return from_spec(spec.read_problem(Path(path)))


def parse_problem(data: Any, source: str = "<problem>") -> Problem:
    """An already-loaded problem document (see specs.problem.parse_problem)."""
    return from_spec(spec.parse_problem(data, source))


def from_spec(problem: spec.Problem) -> Problem:
    shape = problem.shape
    dims = shape.dimensions
    coefficients = {name: problem.instance[name] for name, _ in shape.coefficients}
    spaces = tuple(
        DataSpace(
            ds.name,
            tuple(
                tuple((dims.index(term[0]), coefficients[term[1]] if len(term) == 2 else 1) for term in expr)
                for expr in ds.projection
            ),
            ds.read_write,
        )
        for ds in shape.data_spaces
    )
    densities = tuple(problem.densities.get(ds.name, 1.0) for ds in shape.data_spaces) if problem.densities else ()
    return Problem(shape.name, dims, tuple(problem.instance[d] for d in dims), spaces, coefficients, densities)
