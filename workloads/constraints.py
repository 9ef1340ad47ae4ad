"""STATUS (lead): done and committed; arch helper: review only, do not rewrite.

Render Timeloop constraint files from the Jinja2 templates under `arch/<arch>/constraints/`.

A template may mention dimensions a problem does not have (e.g. C for the channel-coupled depthwise
shape): `render_constraints` drops those factors and permutation letters after rendering, so one
template serves every problem shape.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import yaml

SECTIONS = ("architecture_constraints", "mapspace_constraints")


class ConstraintsError(ValueError):
    """A template that cannot be rendered for a problem; the message names the template and the field."""


def _environment(directory: Path):
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(directory)), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)


def filter_factors(factors: str, dims: Sequence[str], where: str) -> str:
    kept = []
    for token in str(factors).split():
        dim, sep, value = token.partition("=")
        if not sep or not value.isdigit() or not dim.isalpha():
            raise ConstraintsError(f"{where}: malformed factor {token!r} (expected DIM=integer)")
        if dim in dims:
            kept.append(token)
    return " ".join(kept)


def filter_permutation(permutation: str, dims: Sequence[str]) -> str:
    return "".join(ch for ch in str(permutation) if ch == " " or ch in dims).strip()


def _filtered(spec: dict[str, Any], dims: Sequence[str], source: str) -> dict[str, Any]:
    out = {}
    for section in SECTIONS:
        if section not in spec:
            continue
        targets = []
        for i, target in enumerate(spec[section].get("targets") or []):
            target = dict(target)
            where = f"{source}: {section}.targets[{i}] ({target.get('target')})"
            if "factors" in target:
                target["factors"] = filter_factors(target["factors"], dims, where)
            if "permutation" in target:
                target["permutation"] = filter_permutation(target["permutation"], dims)
            targets.append(target)
        out[section] = {"targets": targets}
    return out


def render_constraints(template: str | Path, problem_dims: Sequence[str], **params: Any) -> str:
    """Render `template` with `params` and keep only the problem's dimensions; returns YAML text."""
    import jinja2

    template = Path(template)
    try:
        text = _environment(template.parent).get_template(template.name).render(**params)
    except jinja2.UndefinedError as exc:
        raise ConstraintsError(f"{template}: missing template parameter ({exc.message})") from None
    except jinja2.TemplateNotFound:
        raise ConstraintsError(f"{template}: constraint template not found") from None
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConstraintsError(f"{template}: rendered text is not valid YAML: {exc}") from None
    if not isinstance(spec, dict) or not any(s in spec for s in SECTIONS):
        raise ConstraintsError(f"{template}: expected {' and/or '.join(SECTIONS)} at the top level")
    filtered = _filtered(spec, list(problem_dims), str(template))
    header = f"# rendered from {template.name} for dimensions {' '.join(problem_dims)}\n"
    return header + yaml.safe_dump(filtered, sort_keys=False)


def load_constraints(path_or_text: str | Path) -> list[dict[str, Any]]:
    """All constraint targets of a file (any of Timeloop's layouts: architecture_constraints /
    mapspace_constraints / a plain `targets` list / `constraints`), each tagged with its section."""
    text = Path(path_or_text).read_text() if isinstance(path_or_text, Path) or "\n" not in str(path_or_text) else path_or_text
    spec = yaml.safe_load(text) or {}
    targets = []
    for section in (*SECTIONS, "constraints"):
        for target in (spec.get(section) or {}).get("targets") or []:
            targets.append({**target, "section": section})
    for target in spec.get("targets") or []:
        targets.append({**target, "section": "targets"})
    return targets
