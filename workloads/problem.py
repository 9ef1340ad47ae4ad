"""Layers -> Timeloop problems (specs.problem.Problem) of the shapes in `workloads/templates/shapes.yaml`.

How a layer becomes problems (`problems_for`):
  conv, pointwise, fc     one CNN-Layer problem (C, M, R, S, N, P, Q; stride on P and Q).
  grouped-pointwise       ONE group (C/G -> M/G) with repeat = G: the G groups are identical and independent.
  depthwise               depthwise="coupled": a Depthwise-Layer problem (channels coupled, dimension M, no C);
                          depthwise="paper":   the reference's CNN-Layer with C=1, M=channels (MACs and weights
                          right, input traffic under-counted by the channel count).
  grouped-conv (k x k)    coupled: one group (C/G -> M/G) with repeat = G, like a grouped 1x1;
                          paper:   the reference's single CNN-Layer C/G -> M (e.g. ARCHON's main conv in/G -> out).
  The `depthwise` switch thus selects how every channel-grouped k x k layer is expressed; the paper form
  (C/G -> M, repeat 1) covers depthwise as its G = C case.

`problem.macs * problem.repeat == layer.macs` in every case. Problems are written and read with specs.problem
(`render_problem`, `read_problem`); `parse_problem` here also checks that the file holds one of fuseloop's shapes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from specs.errors import SpecError
from specs.io import read_mapping
from specs.problem import DataSpace, Problem, Shape, read_problem, render_problem

from .layer import Layer

SHAPES_FILE = Path(__file__).resolve().parent / "templates" / "shapes.yaml"
VERSIONS = ("0.3", "0.4")
DEPTHWISE_FORMS = ("coupled", "paper")
CNN = "CNN-Layer"
DEPTHWISE = "Depthwise-Layer"

ProblemError = SpecError  # a problem that cannot be built, rendered or parsed (names the file and the field)

__all__ = [
    "CNN",
    "DEPTHWISE",
    "DEPTHWISE_FORMS",
    "VERSIONS",
    "Problem",
    "ProblemError",
    "Shape",
    "parse_problem",
    "problems_for",
    "render_problem",
    "shapes",
]


@cache
def shapes() -> dict[str, Shape]:
    """The shapes defined in templates/shapes.yaml, by name (data spaces in the v0.3 spelling)."""
    out = {}
    for name, spec in read_mapping(SHAPES_FILE, "shape definitions").items():
        spaces = tuple(
            DataSpace(
                ds["name"],
                tuple(tuple(tuple(term) for term in expr) for expr in ds["projection"]),
                bool(ds.get("read-write", False)),
            )
            for ds in spec["data-spaces"]
        )
        coefs = tuple((c["name"], int(c["default"])) for c in spec["coefficients"])
        out[name] = Shape(name, tuple(spec["dimensions"]), coefs, spaces)
    return out


# ----------------------------------------------------------------------------------------- layer -> problems


def problems_for(layer: Layer, depthwise: str = "coupled") -> list[Problem]:
    """The Timeloop problem(s) that evaluate `layer` (see the module docstring)."""
    if depthwise not in DEPTHWISE_FORMS:
        raise ProblemError(
            f"layer {layer.name}: depthwise form {depthwise!r} is not one of {', '.join(DEPTHWISE_FORMS)}"
        )
    G = layer.groups
    if layer.kind in ("depthwise", "grouped-conv"):
        if depthwise == "paper":
            return [_cnn(layer, layer.C // G, layer.M)]
        if layer.kind == "depthwise":
            return [_depthwise(layer)]
        return [_cnn(layer, layer.C // G, layer.M // G, repeat=G)]
    if layer.kind == "grouped-pointwise":
        return [_cnn(layer, layer.C // G, layer.M // G, repeat=G)]
    return [_cnn(layer, layer.C, layer.M)]


def _coefficients(layer: Layer) -> dict[str, int]:
    return {"Wstride": layer.stride, "Hstride": layer.stride, "Wdilation": 1, "Hdilation": 1}


def _cnn(layer: Layer, C: int, M: int, repeat: int = 1) -> Problem:
    inst = {"C": C, "M": M, "R": layer.R, "S": layer.S, "N": layer.N, "P": layer.P, "Q": layer.Q}
    return Problem(shapes()[CNN], {**inst, **_coefficients(layer)}, repeat, layer.name)


def _depthwise(layer: Layer) -> Problem:
    inst = {"M": layer.M, "R": layer.R, "S": layer.S, "N": layer.N, "P": layer.P, "Q": layer.Q}
    return Problem(shapes()[DEPTHWISE], {**inst, **_coefficients(layer)}, 1, layer.name)


# ----------------------------------------------------------------------------------------- parsing


def parse_problem(source: str | Path) -> Problem:
    """Read a problem YAML (v0.3 or v0.4; a path or the YAML text) that must hold one of fuseloop's shapes (same
    name, dimensions, coefficients and projections); the result uses that shape."""
    problem = read_problem(source)
    where = str(source) if isinstance(source, Path) or "\n" not in str(source) else "<problem text>"
    name = problem.shape.name
    if name not in shapes():
        raise ProblemError(
            f"{where}: field problem.shape.name: {name!r} is not a fuseloop shape ({', '.join(shapes())})"
        )
    ours = shapes()[name]
    if problem.shape.dimensions != ours.dimensions:
        raise ProblemError(
            f"{where}: field problem.shape.dimensions: {list(problem.shape.dimensions)} differ from "
            f"{name}'s {list(ours.dimensions)}"
        )
    if problem.shape.coefficients != ours.coefficients:
        raise ProblemError(f"{where}: field problem.shape.coefficients: differ from {name}'s")
    if set(problem.shape.data_spaces) != set(ours.data_spaces):
        raise ProblemError(f"{where}: field problem.shape.data-spaces: projections differ from {name}'s")
    return Problem(ours, problem.instance, problem.repeat, problem.layer, problem.densities)
