"""Small I/O helpers shared by result records and parameter files: JSON round trips of dataclasses, and
preset YAML files (`presets: {name: {...}}`) read with one-line errors naming the file and field."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, ClassVar

from .io import read_yaml


class JsonRecord:
    """Mixin for dataclasses: to_dict / from_dict (unknown fields rejected) / to_json / from_json."""

    __dataclass_fields__: ClassVar[dict[str, Any]]  # the subclass is a dataclass (tells type checkers so)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown field(s) {', '.join(unknown)}")
        return cls(**data)

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | Path):
        text = str(text_or_path)
        if isinstance(text_or_path, Path) or not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text()
        return cls.from_dict(json.loads(text))


def read_presets(path: Path, error: type[Exception], what: str = "settings") -> dict[str, Any]:
    """A YAML file with a non-empty `presets:` mapping of name -> mapping; `error` is raised on bad input."""
    spec = read_yaml(path, "presets file", error)
    if not isinstance(spec, dict) or not isinstance(spec.get("presets"), dict) or not spec["presets"]:
        raise error(f"{path}: field presets: missing or not a mapping of preset name -> {what}")
    for name, body in spec["presets"].items():
        if not isinstance(body, dict):
            raise error(f"{path}: field presets.{name}: expected a mapping")
    return spec
