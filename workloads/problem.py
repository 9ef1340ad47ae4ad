"""Layers -> Timeloop problems, rendered with the Jinja2 templates in `workloads/templates/`.

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

`problem.macs * problem.repeat == layer.macs` in every case.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from math import prod
from pathlib import Path
from typing import Any

import yaml

from .layer import Layer

TEMPLATES = Path(__file__).resolve().parent / "templates"
VERSIONS = ("0.3", "0.4")
DEPTHWISE_FORMS = ("coupled", "paper")
CNN = "CNN-Layer"
DEPTHWISE = "Depthwise-Layer"
HEADER = re.compile(r"^#\s*fuseloop:\s*(.*)$", re.MULTILINE)


class ProblemError(ValueError):
    """A problem that cannot be built, rendered or parsed; the message names the file and the field."""


@dataclass(frozen=True)
class Shape:
    """A Timeloop problem shape: dimensions, coefficients with defaults, and data-space projections."""

    name: str
    dimensions: tuple[str, ...]
    coefficients: tuple[tuple[str, int], ...]
    data_spaces: tuple[dict, ...]  # {"name", "projection": [[[dim] | [dim, coef], ...], ...], "read_write"}

    def projections(self) -> dict[str, Any]:
        return {ds["name"]: (ds["projection"], ds["read_write"]) for ds in self.data_spaces}


@dataclass(frozen=True)
class Problem:
    """One Timeloop problem: a shape, its ordered dimensions and instance values, and how often it repeats.

    instance holds every dimension's bound and every coefficient's value (Wstride, Hstride, Wdilation, Hdilation).
    repeat: the number of identical, independent copies the layer consists of (groups of a grouped layer);
    energy and cycles of the layer are `repeat` times those of this problem.
    """

    shape: str
    dimensions: tuple[str, ...]
    instance: dict[str, int] = field(hash=False)
    repeat: int = 1
    layer: str = ""

    @property
    def bounds(self) -> dict[str, int]:
        return {d: self.instance[d] for d in self.dimensions}

    @property
    def macs(self) -> int:
        """MACs of one copy."""
        return prod(self.bounds.values())

    @property
    def total_macs(self) -> int:
        return self.macs * self.repeat


# ----------------------------------------------------------------------------------------- shapes

@lru_cache(maxsize=None)
def shapes() -> dict[str, Shape]:
    """The shapes defined in templates/shapes.yaml, by name."""
    raw = yaml.safe_load((TEMPLATES / "shapes.yaml").read_text())
    out = {}
    for name, spec in raw.items():
        spaces = tuple({"name": ds["name"], "projection": ds["projection"], "read_write": bool(ds.get("read-write", False))}
                       for ds in spec["data-spaces"])
        coefs = tuple((c["name"], int(c["default"])) for c in spec["coefficients"])
        out[name] = Shape(name, tuple(spec["dimensions"]), coefs, spaces)
    return out


# ----------------------------------------------------------------------------------------- layer -> problems

def problems_for(layer: Layer, depthwise: str = "coupled") -> list[Problem]:
    """The Timeloop problem(s) that evaluate `layer` (see the module docstring)."""
    if depthwise not in DEPTHWISE_FORMS:
        raise ProblemError(f"layer {layer.name}: depthwise form {depthwise!r} is not one of {', '.join(DEPTHWISE_FORMS)}")
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
    return Problem(CNN, shapes()[CNN].dimensions, {**inst, **_coefficients(layer)}, repeat, layer.name)


def _depthwise(layer: Layer) -> Problem:
    inst = {"M": layer.M, "R": layer.R, "S": layer.S, "N": layer.N, "P": layer.P, "Q": layer.Q}
    return Problem(DEPTHWISE, shapes()[DEPTHWISE].dimensions, {**inst, **_coefficients(layer)}, 1, layer.name)


# ----------------------------------------------------------------------------------------- rendering

@lru_cache(maxsize=None)
def _template(version: str):
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, autoescape=False)
    return env.get_template(f"problem-v{version}.yaml.j2")


def render_problem(problem: Problem, version: str = "0.3") -> str:
    """The problem as Timeloop YAML: version "0.3" (the reference's prob.yaml form) or "0.4"."""
    if version not in VERSIONS:
        raise ProblemError(f"problem {problem.layer or problem.shape}: Timeloop version {version!r} is not one of {', '.join(VERSIONS)}")
    try:
        shape = shapes()[problem.shape]
    except KeyError:
        raise ProblemError(f"problem {problem.layer}: unknown shape {problem.shape!r} (known: {', '.join(shapes())})") from None
    missing = [k for k in (*shape.dimensions, *(c for c, _ in shape.coefficients)) if k not in problem.instance]
    if missing:
        raise ProblemError(f"problem {problem.layer}: instance lacks {', '.join(missing)}")
    view = {"name": shape.name, "dimensions": shape.dimensions,
            "coefficients": [{"name": n, "default": d} for n, d in shape.coefficients],
            "data_spaces": shape.data_spaces}
    return _template(version).render(shape=view, instance=problem.instance, repeat=problem.repeat, layer=problem.layer)


# ----------------------------------------------------------------------------------------- parsing

def parse_problem(source: str | Path) -> Problem:
    """Read a problem YAML (v0.3 or v0.4; a path or the YAML text) back into a `Problem`.

    The shape must be one of fuseloop's shapes (same dimensions and projections). `repeat` and the layer
    name come from the `# fuseloop:` header comment when present (repeat 1 otherwise).
    """
    if isinstance(source, Path) or ("\n" not in source and not source.lstrip().startswith("problem")):
        where = str(source)
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise ProblemError(f"{where}: cannot read problem file: {exc}") from None
    else:
        where, text = "<problem text>", source
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ProblemError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("problem"), dict):
        raise ProblemError(f"{where}: field problem: missing (expected a top-level 'problem' mapping)")
    prob = data["problem"]
    v04 = "version" in prob
    if v04 and str(prob["version"]) != "0.4":
        raise ProblemError(f"{where}: field problem.version: {prob['version']!r} is not supported (0.4, or absent for 0.3)")
    shape_raw = prob.get("shape")
    if not isinstance(shape_raw, dict):
        raise ProblemError(f"{where}: field problem.shape: missing or not a mapping")
    shape = _match_shape(shape_raw, v04, where)
    inst = prob.get("instance")
    if not isinstance(inst, dict):
        raise ProblemError(f"{where}: field problem.instance: missing or not a mapping")
    known = set(shape.dimensions) | {c for c, _ in shape.coefficients}
    unknown = sorted(set(inst) - known)
    if unknown:
        raise ProblemError(f"{where}: field problem.instance: unsupported key(s) {', '.join(map(str, unknown))}")
    instance = {}
    for key in shape.dimensions:
        if key not in inst:
            raise ProblemError(f"{where}: field problem.instance.{key}: missing")
        instance[key] = _positive(inst[key], where, f"problem.instance.{key}")
    for key, default in shape.coefficients:
        instance[key] = _positive(inst.get(key, default), where, f"problem.instance.{key}")
    header = _header(text)
    repeat_text = header.get("repeat", "1")
    if not repeat_text.isdigit() or int(repeat_text) < 1:
        raise ProblemError(f"{where}: field '# fuseloop: repeat': must be a positive integer, got {repeat_text!r}")
    repeat = int(repeat_text)
    layer = header.get("layer", "")
    return Problem(shape.name, shape.dimensions, instance, repeat, "" if layer == "-" else layer)


def _match_shape(raw: dict, v04: bool, where: str) -> Shape:
    name = raw.get("name")
    if name not in shapes():
        raise ProblemError(f"{where}: field problem.shape.name: {name!r} is not a fuseloop shape ({', '.join(shapes())})")
    shape = shapes()[name]
    if tuple(raw.get("dimensions") or ()) != shape.dimensions:
        raise ProblemError(f"{where}: field problem.shape.dimensions: {raw.get('dimensions')} differ from {name}'s "
                           f"{list(shape.dimensions)}")
    coefs = tuple((c.get("name"), c.get("default")) for c in raw.get("coefficients") or [] if isinstance(c, dict))
    if coefs != shape.coefficients:
        raise ProblemError(f"{where}: field problem.shape.coefficients: differ from {name}'s")
    spaces_key, rw_key = ("data_spaces", "read_write") if v04 else ("data-spaces", "read-write")
    spaces = raw.get(spaces_key)
    if not isinstance(spaces, list):
        raise ProblemError(f"{where}: field problem.shape.{spaces_key}: missing or not a list")
    got = {ds.get("name"): (_normalise(ds.get("projection")), bool(ds.get(rw_key, False)))
           for ds in spaces if isinstance(ds, dict)}
    if got != shape.projections():
        raise ProblemError(f"{where}: field problem.shape.{spaces_key}: projections differ from {name}'s")
    return shape


def _normalise(projection: Any) -> Any:
    """Timeloop's compact projection forms ([C, M] or [[C], [M]]) -> the full [[[C]], [[M]]] form."""
    if not isinstance(projection, list):
        return projection
    out = []
    for expr in projection:
        if isinstance(expr, str):
            expr = [[expr]]
        elif isinstance(expr, list):
            expr = [[term] if isinstance(term, str) else term for term in expr]
        out.append(expr)
    return out


def _header(text: str) -> dict[str, str]:
    match = HEADER.search(text)
    if not match:
        return {}
    return dict(tok.split("=", 1) for tok in match.group(1).split() if "=" in tok)


def _positive(value: Any, where: str, field_name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ProblemError(f"{where}: field {field_name}: must be a positive integer, got {value!r}")
    return value
