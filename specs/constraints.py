"""Timeloop constraint files: the one reader (normalized form) and writer (Jinja2 templates rendered per layer).

    load_constraints(*paths_or_texts, strict=False) -> {target: {type: spec}}   any of Timeloop's layouts, merged
    render_constraints(template, problem_dims, **params) -> str     YAML text for timeloop-mapper / the engines
    constraint_templates(arch_dir) -> {name: Path}                   the templates under <arch_dir>/constraints/

Factor strings are read with Timeloop's own lenient patterns (`R=3S=3` is two factors, as timeloop-mapper reads
it); `strict=True` (used for fuseloop's own templates) requires space-separated `DIM=int` / `DIM<=int` tokens, so a
typo cannot silently change a constraint.

Rendering adapts a template to the problem's dimensions, so one template serves every layer shape (a 1x1, a k x k
conv, an FC, a depthwise layer in the paper's C=1 form or in the channel-coupled form without C):

* factors of dimensions the problem does not have are dropped (`C=1` for the coupled depthwise shape);
* permutation letters of such dimensions are dropped, and a spatial `split` is lowered by the number of dropped
  letters before it, so every remaining dimension stays on its side (X or Y) of the split;
* a target left with nothing to constrain (no factors, no permutation) is dropped.

Only the CNN-layer dimensions (C, M, R, S, N, P, Q) may be dropped; any other unknown letter is an error, so a typo
in a parameter cannot silently disappear. Factor tokens must be `DIM=int` or `DIM<=int` (Timeloop's forms).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import SpecError
from .io import parse_yaml, read_yaml

TEMPLATE_SUFFIX = ".yaml.j2"
SECTIONS = ("architecture_constraints", "mapspace_constraints")
# Timeloop's accepted spellings of the two sections (mapper.hpp), mapped to ours.
SECTION_ALIASES = {
    "architecture_constraints": "architecture_constraints",
    "arch_constraints": "architecture_constraints",
    "mapspace_constraints": "mapspace_constraints",
    "mapspace": "mapspace_constraints",
}
TYPE_ALIASES = {
    "temporal": "temporal",
    "spatial": "spatial",
    "bypass": "bypass",
    "datatype": "bypass",
    "bypassing": "bypass",
    "utilization": "utilization",
    "parallelism": "utilization",
}
DROPPABLE_DIMS = frozenset("CMRSNPQ")  # CNN-layer dimensions a problem shape may lack
FACTOR_RE = re.compile(r"^([A-Za-z]+)(=|<=)(\d+)$")
# Timeloop's own patterns (mapspace constraint parser): `D=n` (any number of '=', spaces allowed) and `D<=n`.
LENIENT_FACTOR_RE = re.compile(r"([A-Za-z]+)\s*=*\s*([0-9]+)")
LENIENT_MAX_FACTOR_RE = re.compile(r"([A-Za-z]+)\s*<=\s*([0-9]+)")


class ConstraintsError(SpecError):
    """A template or constraint file that cannot be used; the message names the file and the field."""


# ---- parsing one target's fields ---------------------------------------------------------------------------


def parse_factors(factors: str, where: str, strict: bool = True) -> list[tuple[str, str, int]]:
    """`"C=1 M=8 P<=4"` -> [("C", "=", 1), ("M", "=", 8), ("P", "<=", 4)]; a repeated dimension is an error.
    `strict=False` reads the string as timeloop-mapper does (see the module doc)."""
    if not strict:
        text = str(factors)
        maxima = [(d, "<=", int(v)) for d, v in LENIENT_MAX_FACTOR_RE.findall(text)]
        fixed = [(d, "=", int(v)) for d, v in LENIENT_FACTOR_RE.findall(LENIENT_MAX_FACTOR_RE.sub(" ", text))]
        _no_repeats(maxima + fixed, factors, where)
        return maxima + fixed
    parsed, seen = [], set()
    for token in str(factors).split():
        match = FACTOR_RE.match(token)
        if not match:
            raise ConstraintsError(f"{where}: malformed factor {token!r} (expected DIM=integer or DIM<=integer)")
        dim, op, value = match.group(1), match.group(2), int(match.group(3))
        if (dim, op) in seen:
            raise ConstraintsError(f"{where}: dimension {dim} appears twice in factors {factors!r}")
        seen.add((dim, op))
        parsed.append((dim, op, value))
    return parsed


def _no_repeats(parsed: list[tuple[str, str, int]], factors: str, where: str) -> None:
    seen: set[tuple[str, str]] = set()
    for dim, op, _ in parsed:
        if (dim, op) in seen:
            raise ConstraintsError(f"{where}: dimension {dim} appears twice in factors {factors!r}")
        seen.add((dim, op))


def _check_dims(letters, dims: Sequence[str], where: str, what: str) -> None:
    unknown = sorted({d for d in letters if d not in dims and d not in DROPPABLE_DIMS})
    if unknown:
        raise ConstraintsError(
            f"{where}: {what} names unknown dimension(s) {', '.join(unknown)} (problem dimensions: {' '.join(dims)})"
        )


def filter_factors(factors: str, dims: Sequence[str], where: str) -> str:
    """Keep the factors of `dims`; drop those of CNN dimensions the problem lacks."""
    parsed = parse_factors(factors, where)
    _check_dims([d for d, _, _ in parsed], dims, where, "factors")
    return " ".join(f"{d}{op}{v}" for d, op, v in parsed if d in dims)


def filter_permutation(permutation: str, dims: Sequence[str], where: str = "permutation") -> str:
    """Drop letters of CNN dimensions the problem lacks; spaces (cosmetic for Timeloop) are kept."""
    _check_dims([ch for ch in str(permutation) if not ch.isspace()], dims, where, "permutation")
    return re.sub(r"\s+", " ", "".join(ch for ch in str(permutation) if ch.isspace() or ch in dims)).strip()


def filter_split(split: int, permutation: str, dims: Sequence[str]) -> int:
    """The split point after dropping letters: the kept letters among the first `split` ones."""
    letters = [ch for ch in str(permutation) if not ch.isspace()]
    return sum(1 for ch in letters[: int(split)] if ch in dims) + max(0, int(split) - len(letters))


def _filtered_target(target: dict, dims: Sequence[str], where: str) -> dict | None:
    target = dict(target)
    if "split" in target:
        if "permutation" not in target:
            raise ConstraintsError(f"{where}: a split needs the permutation it splits")
        target["split"] = filter_split(target["split"], target["permutation"], dims)
    for key, fn in (("factors", filter_factors), ("permutation", filter_permutation)):
        if key in target:
            target[key] = fn(target[key], dims, where)
            if not target[key]:
                del target[key]
    if target.get("type") in ("temporal", "spatial") and not ({"factors", "permutation"} & set(target)):
        return None
    return target


# ---- rendering ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _compiled(template: str, mtime_ns: int):
    """(compiled template, its parameter names), cached on the file's path and modification time."""
    import jinja2
    from jinja2 import meta

    path = Path(template)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(path.parent)), undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    try:
        parameters = frozenset(meta.find_undeclared_variables(env.parse(path.read_text())))
        return env.get_template(path.name), parameters
    except jinja2.TemplateSyntaxError as exc:
        raise ConstraintsError(f"{path}: line {exc.lineno}: template syntax error: {exc.message}") from None


def _template(template: str | Path):
    path = Path(template)
    if not path.is_file():
        raise ConstraintsError(f"{path}: constraint template not found")
    return _compiled(str(path.resolve()), path.stat().st_mtime_ns)


def template_parameters(template: str | Path) -> set[str]:
    """Names the template uses (its parameters)."""
    return set(_template(template)[1])


def render_constraints(template: str | Path, problem_dims: Sequence[str], **params: Any) -> str:
    """Render `template` with `params`, adapt it to `problem_dims` (see the module doc); returns YAML text."""
    dims = tuple(problem_dims)
    if not dims or not all(isinstance(d, str) and d.isalpha() for d in dims):
        raise ConstraintsError(f"{template}: problem dimensions must be letters, got {problem_dims!r}")
    path = Path(template)
    _template(path)  # exists and parses
    key = tuple(sorted(params.items()))  # parameter values are numbers and strings (hashable)
    return _render(str(path.resolve()), path.stat().st_mtime_ns, dims, key, str(template))


@lru_cache(maxsize=4096)
def _render(
    template: str, mtime_ns: int, dims: tuple[str, ...], params: tuple[tuple[str, Any], ...], shown: str
) -> str:
    import jinja2

    compiled, parameters = _compiled(template, mtime_ns)
    unknown = sorted({k for k, _ in params} - parameters)
    if unknown:
        raise ConstraintsError(
            f"{shown}: unknown template parameter(s) {', '.join(unknown)} "
            f"(the template uses {', '.join(sorted(parameters)) or 'none'})"
        )
    try:
        text = compiled.render(**dict(params))
    except jinja2.UndefinedError as exc:
        raise ConstraintsError(f"{shown}: missing template parameter ({exc.message})") from None
    except jinja2.TemplateError as exc:
        raise ConstraintsError(f"{shown}: cannot render: {exc}") from None
    spec = parse_yaml(text, f"{shown} (rendered)", ConstraintsError)
    if not isinstance(spec, dict) or not any(s in spec for s in SECTIONS):
        raise ConstraintsError(f"{shown}: expected {' and/or '.join(SECTIONS)} at the top level")
    out = {}
    for section in SECTIONS:
        if section not in spec:
            continue
        targets = []
        for i, target in enumerate((spec[section] or {}).get("targets") or []):
            where = f"{shown}: {section}.targets[{i}] ({target.get('target')} {target.get('type')})"
            kept = _filtered_target(target, dims, where)
            if kept is not None:
                targets.append(kept)
        out[section] = {"targets": targets}
    header = f"# rendered from {Path(template).name} for dimensions {' '.join(dims)}\n"
    return header + _dump(out)


def constraint_templates(arch_dir: str | Path) -> dict[str, Path]:
    """{template name without `.yaml.j2`: path} of `<arch_dir>/constraints/*.yaml.j2`."""
    directory = Path(arch_dir) / "constraints"
    if not directory.is_dir():
        raise ConstraintsError(f"{arch_dir}: no constraints/ directory")
    return {p.name[: -len(TEMPLATE_SUFFIX)]: p for p in sorted(directory.glob("*" + TEMPLATE_SUFFIX))}


# ---- normalized form ---------------------------------------------------------------------------------------


def _read(path_or_text: str | Path) -> tuple[Any, str]:
    text = str(path_or_text)
    looks_like_a_path = "\n" not in text and (text.endswith((".yaml", ".yml")) or Path(text).is_file())
    if isinstance(path_or_text, Path) or looks_like_a_path:
        path = Path(path_or_text)
        return read_yaml(path, "constraints file", ConstraintsError), str(path)
    return parse_yaml(text, "<constraints text>", ConstraintsError), "<constraints text>"


def _entries(section: Any) -> list:
    if isinstance(section, list):
        return section
    if isinstance(section, dict):
        for key in ("constraints", "targets"):
            if isinstance(section.get(key), list):
                return section[key]
    return []


def _single_constraints(entry: dict):
    """(target, type, attributes) of one list entry, in any of Timeloop's nestings (a target may be named by
    `target` or `name`, and carry a nested `constraints` list)."""
    nested = entry.get("constraints")
    for constraint in nested if isinstance(nested, list) else [entry]:
        attributes = constraint.get("attributes", constraint)
        target = entry.get("target", entry.get("name")) if constraint is not entry else None
        yield target or constraint.get("target", constraint.get("name")), constraint.get("type"), attributes


def load_constraints(*sources: str | Path, strict: bool = False) -> dict[str, dict[str, dict[str, Any]]]:
    """Normalize one or more constraints YAMLs (file paths or texts), merged, into one spec per target and type.

    Accepts Timeloop's layouts: `architecture_constraints` / `arch_constraints` / `mapspace_constraints` /
    `mapspace` sections (each a list or a mapping with `targets` or `constraints`), a bare `targets` list or a bare
    list; entries with or without a nested `constraints` list or `attributes` mapping. Sections are merged; as in
    Timeloop, specifying the same field twice for one target is an error. The result:

        {target: {
            "bypass":      {"keep": [tensor, ...], "bypass": [tensor, ...]},          # sorted names
            "temporal":    {"factors": {dim: int}, "max_factors": {dim: int}, "permutation": "NPQ..."},
            "spatial":     {... same as temporal ..., "split": int},
            "utilization": {"min": float},
        }}

    `factors` holds `D=n` (n = 0 means the full dimension, as in Timeloop), `max_factors` holds `D<=n`;
    `permutation` is the letters innermost first, without spaces (a prefix: unnamed dimensions are free).
    Types absent from the file are absent here; a temporal/spatial spec always has both factor dicts.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for path_or_text in sources:
        _load_one(path_or_text, out, strict)
    return out


def _load_one(path_or_text: str | Path, out: dict[str, dict[str, dict[str, Any]]], strict: bool) -> None:
    data, source = _read(path_or_text)
    if data is None:
        return
    sections: list[tuple[str, Any]] = []
    if isinstance(data, list):
        sections.append(("targets", data))
    elif isinstance(data, dict):
        for key, value in data.items():
            if key in SECTION_ALIASES:
                sections.append((SECTION_ALIASES[key], value))
            elif key in ("targets", "constraints"):
                sections.append(("targets", value))
        if data and not sections:
            raise ConstraintsError(
                f"{source}: none of {', '.join(SECTION_ALIASES)} or targets found (keys: {', '.join(map(str, data))})"
            )
    else:
        raise ConstraintsError(f"{source}: expected a mapping with {' / '.join(SECTIONS)} or a list of targets")
    for section, value in sections:
        for i, entry in enumerate(_entries(value)):
            if not isinstance(entry, dict):
                raise ConstraintsError(f"{source}: {section}[{i}]: expected a mapping, got {entry!r}")
            for target, kind, attributes in _single_constraints(entry):
                where = f"{source}: {section}[{i}] ({target} {kind})"
                if not target or kind not in TYPE_ALIASES:
                    raise ConstraintsError(
                        f"{where}: needs a target and a type among {', '.join(sorted(TYPE_ALIASES))}"
                    )
                kind = TYPE_ALIASES[kind]
                spec = out.setdefault(str(target), {}).setdefault(kind, {})
                if not isinstance(attributes, dict):
                    raise ConstraintsError(f"{where}: attributes must be a mapping")
                _merge(spec, kind, attributes, where, strict)


def _set_once(spec: dict, key: str, value: Any, where: str) -> None:
    if key in spec:
        raise ConstraintsError(f"{where}: {key} specified twice for this target")
    spec[key] = value


def _merge(spec: dict, kind: str, attributes: dict, where: str, strict: bool) -> None:
    if kind == "bypass":
        for key in ("keep", "bypass"):
            names = list(attributes.get(key) or [])
            spec.setdefault("keep", [])
            spec.setdefault("bypass", [])
            for name in names:
                if name in spec["keep"] or name in spec["bypass"]:
                    raise ConstraintsError(f"{where}: tensor {name} kept/bypassed twice for this target")
                spec[key].append(name)
            spec[key].sort()
        return
    if kind == "utilization":
        if "min" in attributes:
            try:
                _set_once(spec, "min", float(attributes["min"]), where)
            except (TypeError, ValueError):
                raise ConstraintsError(f"{where}: min must be a number, got {attributes['min']!r}") from None
        return
    spec.setdefault("factors", {})
    spec.setdefault("max_factors", {})
    for dim, op, value in parse_factors(attributes.get("factors") or "", where, strict):
        bucket = spec["factors"] if op == "=" else spec["max_factors"]
        if dim in bucket:
            raise ConstraintsError(f"{where}: factor {dim}{op} specified twice for this target")
        bucket[dim] = value
    if attributes.get("permutation") is not None:
        _set_once(spec, "permutation", re.sub(r"\s+", "", str(attributes["permutation"])), where)
    if kind == "spatial" and attributes.get("split") is not None:
        if isinstance(attributes["split"], bool) or not isinstance(attributes["split"], int):
            raise ConstraintsError(f"{where}: split must be an integer, got {attributes['split']!r}")
        _set_once(spec, "split", attributes["split"], where)


def _dump(data: Any) -> str:
    import yaml

    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)
