"""Timeloop v0.3 problem YAML -> `Problem` (generic over the shape: dimensions,
coefficients and data-space projections come from the file, nothing is CNN-specific)."""
from __future__ import annotations

from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any, Mapping as MappingT

import yaml

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
            raise EngineError(f"problem {self.name!r} has no dimension {name!r}; dimensions are {list(self.dims)}") from None

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
    """Read a Timeloop problem YAML (file with a top-level `problem:` key)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise EngineError(f"{path}: cannot read problem YAML: {exc}") from exc
    return parse_problem(data, source=str(path))


def parse_problem(data: Any, source: str = "<problem>") -> Problem:
    """Build a `Problem` from an already-loaded YAML document."""
    if not isinstance(data, dict) or "problem" not in data:
        raise EngineError(f"{source}: missing top-level 'problem' key")
    prob = data["problem"]
    shape = _require(prob, "shape", source, "problem")
    instance = _require(prob, "instance", source, "problem")
    if not isinstance(shape, dict) or not isinstance(instance, dict):
        raise EngineError(f"{source}: problem.shape and problem.instance must be mappings")

    dims = tuple(str(d) for d in _require(shape, "dimensions", source, "problem.shape"))
    if len(set(dims)) != len(dims):
        raise EngineError(f"{source}: problem.shape.dimensions has duplicates: {list(dims)}")

    coefficients: dict[str, int] = {}
    for i, coef in enumerate(shape.get("coefficients") or []):
        if not isinstance(coef, dict) or "name" not in coef:
            raise EngineError(f"{source}: problem.shape.coefficients[{i}] needs a 'name'")
        coefficients[str(coef["name"])] = int(coef.get("default", 1))
    for name in coefficients:
        if name in instance:
            coefficients[name] = _as_int(instance[name], source, f"problem.instance.{name}")

    bounds = []
    for dim in dims:
        if dim not in instance:
            raise EngineError(f"{source}: problem.instance has no bound for dimension {dim!r}")
        value = _as_int(instance[dim], source, f"problem.instance.{dim}")
        if value < 1:
            raise EngineError(f"{source}: problem.instance.{dim} must be >= 1, got {value}")
        bounds.append(value)

    spaces = []
    for i, ds in enumerate(_require(shape, "data-spaces", source, "problem.shape")):
        field = f"problem.shape.data-spaces[{i}]"
        if not isinstance(ds, dict) or "name" not in ds:
            raise EngineError(f"{source}: {field} needs a 'name'")
        projection = _parse_projection(_require(ds, "projection", source, field), dims, coefficients, source,
                                       f"{field}.projection")
        spaces.append(DataSpace(str(ds["name"]), projection, bool(ds.get("read-write", False))))
    if not spaces:
        raise EngineError(f"{source}: problem.shape.data-spaces is empty")

    densities: tuple[float, ...] = ()
    if "commonDensity" in instance:
        densities = tuple(float(instance["commonDensity"]) for _ in spaces)
    elif "densities" in instance:
        dens = instance["densities"]
        densities = tuple(float(dens.get(ds.name, 1.0)) for ds in spaces)

    return Problem(str(shape.get("name", "problem")), dims, tuple(bounds), tuple(spaces), coefficients, densities)


def _parse_projection(raw: Any, dims: tuple[str, ...], coefficients: dict[str, int], source: str,
                      field: str) -> tuple[tuple[Term, ...], ...]:
    if not isinstance(raw, list) or not raw:
        raise EngineError(f"{source}: {field} must be a non-empty list")
    out = []
    for k, expr in enumerate(raw):
        if isinstance(expr, str):  # compact form: projection: [C, M, R, S]
            expr = [[expr]]
        if not isinstance(expr, list) or not expr:
            raise EngineError(f"{source}: {field}[{k}] must be a list of [dimension, coefficient] terms")
        terms = []
        for t, term in enumerate(expr):
            if isinstance(term, str):
                term = [term]
            if not isinstance(term, list) or len(term) not in (1, 2):
                raise EngineError(f"{source}: {field}[{k}][{t}] must be [dimension] or [dimension, coefficient]")
            dim = str(term[0])
            if dim not in dims:
                raise EngineError(f"{source}: {field}[{k}][{t}] names unknown dimension {dim!r}")
            coef = 1
            if len(term) == 2:
                name = str(term[1])
                if name not in coefficients:
                    raise EngineError(f"{source}: {field}[{k}][{t}] names unknown coefficient {name!r}")
                coef = coefficients[name]
            terms.append((dims.index(dim), coef))
        out.append(tuple(terms))
    return tuple(out)


def _require(node: Any, key: str, source: str, where: str) -> Any:
    if not isinstance(node, dict) or key not in node:
        raise EngineError(f"{source}: {where} has no {key!r}")
    return node[key]


def _as_int(value: Any, source: str, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise EngineError(f"{source}: {field} must be an integer, got {value!r}") from None
