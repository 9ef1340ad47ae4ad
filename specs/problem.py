"""Timeloop problems: the one reader (v0.3 and v0.4 YAML) and writer (Jinja2 templates in specs/templates/).

A problem is a shape (dimensions, coefficients with defaults, data spaces with their projections) and an instance
(every dimension's bound and every coefficient's value). Projections use Timeloop's sum-of-products form: one
expression per tensor dimension, each a tuple of terms `(dimension,)` or `(dimension, coefficient)`.

fuseloop writes a header comment `# fuseloop: layer=<name> repeat=<n>`: `repeat` identical, independent copies make up
the layer (the groups of a grouped layer), so its energy and cycles are `repeat` times the problem's. Without the
header, repeat is 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from math import prod
from pathlib import Path
from typing import Any

from .errors import SpecError
from .io import parse_yaml

TEMPLATES = Path(__file__).resolve().parent / "templates"
VERSIONS = ("0.3", "0.4")
HEADER = re.compile(r"^#\s*fuseloop:\s*(.*)$", re.MULTILINE)
DENSITY_KEYS = ("commonDensity", "densities")

Term = tuple[str, ...]  # (dimension,) or (dimension, coefficient)


@dataclass(frozen=True)
class DataSpace:
    name: str
    projection: tuple[tuple[Term, ...], ...]
    read_write: bool = False

    def dims_used(self) -> frozenset[str]:
        return frozenset(term[0] for expr in self.projection for term in expr)


@dataclass(frozen=True)
class Shape:
    name: str
    dimensions: tuple[str, ...]
    coefficients: tuple[tuple[str, int], ...]  # (name, default)
    data_spaces: tuple[DataSpace, ...]

    def data_space(self, name: str) -> DataSpace:
        for space in self.data_spaces:
            if space.name == name:
                return space
        raise SpecError(f"shape {self.name}: no data space {name!r} (has {', '.join(self.tensor_names)})")

    @property
    def tensor_names(self) -> tuple[str, ...]:
        return tuple(space.name for space in self.data_spaces)


@dataclass(frozen=True)
class Problem:
    """One problem instance. `instance` holds every dimension's bound and every coefficient's value."""

    shape: Shape
    instance: dict[str, int] = field(hash=False)
    repeat: int = 1
    layer: str = ""
    densities: dict[str, float] = field(default_factory=dict, hash=False)  # per data space; empty = dense

    @property
    def dimensions(self) -> tuple[str, ...]:
        return self.shape.dimensions

    @property
    def shape_name(self) -> str:
        return self.shape.name

    @property
    def bounds(self) -> dict[str, int]:
        return {d: self.instance[d] for d in self.shape.dimensions}

    @property
    def macs(self) -> int:
        """MACs of one copy."""
        return prod(self.bounds.values())

    @property
    def total_macs(self) -> int:
        return self.macs * self.repeat


# ---- reading ----------------------------------------------------------------------------------------------


def read_problem(source: str | Path) -> Problem:
    """A problem YAML file (a path) or its text, v0.3 or v0.4."""
    if isinstance(source, Path) or ("\n" not in source and not source.lstrip().startswith("problem")):
        where = str(source)
        try:
            text = Path(source).read_text()
        except FileNotFoundError:
            raise SpecError(f"{where}: problem file not found") from None
        except OSError as exc:
            raise SpecError(f"{where}: cannot read problem file: {exc.strerror or exc}") from None
    else:
        where, text = "<problem text>", source
    return parse_problem(parse_yaml(text, where), where, text)


def parse_problem(data: Any, source: str = "<problem>", text: str = "") -> Problem:
    """An already-loaded problem document; `text` (the file's text) supplies the fuseloop header."""
    if not isinstance(data, dict) or not isinstance(data.get("problem"), dict):
        raise SpecError(f"{source}: field problem: missing (expected a top-level 'problem' mapping)")
    prob = data["problem"]
    v04 = "version" in prob
    if v04 and str(prob["version"]) != "0.4":
        raise SpecError(
            f"{source}: field problem.version: {prob['version']!r} is not supported (0.4, or absent for 0.3)"
        )
    shape = _shape(prob.get("shape"), v04, source)
    raw = prob.get("instance")
    if not isinstance(raw, dict):
        raise SpecError(f"{source}: field problem.instance: missing or not a mapping")
    coefficient_names = {name for name, _ in shape.coefficients}
    unknown = sorted(
        str(k) for k in raw if k not in shape.dimensions and k not in coefficient_names and k not in DENSITY_KEYS
    )
    if unknown:
        raise SpecError(
            f"{source}: field problem.instance: unknown key(s) {', '.join(unknown)} (dimensions "
            f"{' '.join(shape.dimensions)}, coefficients {' '.join(sorted(coefficient_names)) or 'none'})"
        )
    instance: dict[str, int] = {}
    for dim in shape.dimensions:
        if dim not in raw:
            raise SpecError(f"{source}: field problem.instance.{dim}: missing (a bound for every dimension)")
        instance[dim] = _positive(raw[dim], source, f"problem.instance.{dim}")
    for name, default in shape.coefficients:
        instance[name] = _positive(raw.get(name, default), source, f"problem.instance.{name}")
    header = _header(text)
    repeat = header.get("repeat", "1")
    if not repeat.isdigit() or int(repeat) < 1:
        raise SpecError(f"{source}: field '# fuseloop: repeat': must be a positive integer, got {repeat!r}")
    layer = header.get("layer", "")
    return Problem(shape, instance, int(repeat), "" if layer == "-" else layer, _densities(raw, shape, source))


def _shape(raw: Any, v04: bool, source: str) -> Shape:
    if not isinstance(raw, dict):
        raise SpecError(f"{source}: field problem.shape: missing or not a mapping")
    dims = raw.get("dimensions")
    if not isinstance(dims, list) or not dims:
        raise SpecError(f"{source}: field problem.shape.dimensions: missing or not a non-empty list")
    dimensions = tuple(str(d) for d in dims)
    if len(set(dimensions)) != len(dimensions):
        raise SpecError(f"{source}: field problem.shape.dimensions: repeats a dimension: {list(dimensions)}")
    coefficients = []
    for i, coef in enumerate(raw.get("coefficients") or []):
        if not isinstance(coef, dict) or "name" not in coef:
            raise SpecError(f"{source}: field problem.shape.coefficients[{i}]: needs a 'name'")
        coefficients.append(
            (str(coef["name"]), _positive(coef.get("default", 1), source, f"problem.shape.coefficients[{i}].default"))
        )
    names = {name for name, _ in coefficients}
    spaces_key, rw_key = ("data_spaces", "read_write") if v04 else ("data-spaces", "read-write")
    spaces = raw.get(spaces_key)
    if not isinstance(spaces, list) or not spaces:
        raise SpecError(f"{source}: field problem.shape.{spaces_key}: missing or not a non-empty list")
    data_spaces = []
    for i, space in enumerate(spaces):
        where = f"problem.shape.{spaces_key}[{i}]"
        if not isinstance(space, dict) or "name" not in space or "projection" not in space:
            raise SpecError(f"{source}: field {where}: needs a 'name' and a 'projection'")
        projection = _projection(space["projection"], dimensions, names, source, f"{where}.projection")
        data_spaces.append(DataSpace(str(space["name"]), projection, bool(space.get(rw_key, False))))
    return Shape(str(raw.get("name", "problem")), dimensions, tuple(coefficients), tuple(data_spaces))


def _projection(
    raw: Any, dims: tuple[str, ...], coefficients: set[str], source: str, where: str
) -> tuple[tuple[Term, ...], ...]:
    """Timeloop's full form [[[C]], [[M]]] or its compact forms ([C, M], [[C], [M]])."""
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"{source}: field {where}: must be a non-empty list")
    out = []
    for k, expr in enumerate(raw):
        expr = [[expr]] if isinstance(expr, str) else expr
        if not isinstance(expr, list) or not expr:
            raise SpecError(
                f"{source}: field {where}[{k}]: must be a list of [dimension] or [dimension, coefficient] terms"
            )
        terms = []
        for t, term in enumerate(expr):
            term = [term] if isinstance(term, str) else term
            if not isinstance(term, list) or len(term) not in (1, 2):
                raise SpecError(f"{source}: field {where}[{k}][{t}]: must be [dimension] or [dimension, coefficient]")
            if str(term[0]) not in dims:
                raise SpecError(f"{source}: field {where}[{k}][{t}]: unknown dimension {term[0]!r}")
            if len(term) == 2 and str(term[1]) not in coefficients:
                raise SpecError(f"{source}: field {where}[{k}][{t}]: unknown coefficient {term[1]!r}")
            terms.append(tuple(str(x) for x in term))
        out.append(tuple(terms))
    return tuple(out)


def _densities(raw: dict, shape: Shape, source: str) -> dict[str, float]:
    if "commonDensity" in raw:
        value = _density(raw["commonDensity"], source, "problem.instance.commonDensity")
        return {name: value for name in shape.tensor_names}
    given = raw.get("densities")
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise SpecError(f"{source}: field problem.instance.densities: expected a mapping of data space -> density")
    for name in given:
        if name not in shape.tensor_names:
            raise SpecError(f"{source}: field problem.instance.densities.{name}: not a data space of the shape")
    return {
        name: _density(given.get(name, 1.0), source, f"problem.instance.densities.{name}")
        for name in shape.tensor_names
    }


def _density(value: Any, source: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise SpecError(f"{source}: field {where}: must be a number in (0, 1], got {value!r}")
    return float(value)


def _header(text: str) -> dict[str, str]:
    match = HEADER.search(text)
    if not match:
        return {}
    return dict(tok.split("=", 1) for tok in match.group(1).split() if "=" in tok)


def _positive(value: Any, source: str, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SpecError(f"{source}: field {where}: must be a positive integer, got {value!r}")
    return value


# ---- writing ----------------------------------------------------------------------------------------------


@cache
def _template(version: str):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env.get_template(f"problem-v{version}.yaml.j2")


def render_problem(problem: Problem, version: str = "0.3") -> str:
    """The problem as Timeloop YAML: version "0.3" (the format of the 2021 Timeloop) or "0.4"."""
    where = problem.layer or problem.shape.name
    if version not in VERSIONS:
        raise SpecError(f"problem {where}: Timeloop version {version!r} is not one of {', '.join(VERSIONS)}")
    shape = problem.shape
    missing = [k for k in (*shape.dimensions, *(c for c, _ in shape.coefficients)) if k not in problem.instance]
    if missing:
        raise SpecError(f"problem {where}: instance lacks {', '.join(missing)}")
    if problem.densities:
        raise SpecError(f"problem {where}: writing densities is not supported")
    view = {
        "name": shape.name,
        "dimensions": shape.dimensions,
        "coefficients": [{"name": n, "default": d} for n, d in shape.coefficients],
        "data_spaces": [
            {"name": s.name, "projection": s.projection, "read_write": s.read_write} for s in shape.data_spaces
        ],
    }
    instance = {key: problem.instance[key] for key in (*shape.dimensions, *(c for c, _ in shape.coefficients))}
    return _template(version).render(shape=view, instance=instance, repeat=problem.repeat, layer=problem.layer)
