"""Reading and writing files: YAML read with one-line errors (file and line), atomic writes.

A result file is either complete or absent: writers write a temporary file next to the target and rename it.
Temporary files get the mode a plain `open()` would give (0666 minus the umask), not mkstemp's 0600.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError

# libyaml's loader when available (several times faster on large tables), else the pure-Python one.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def yaml_error_line(exc: yaml.YAMLError) -> str:
    """`line N, column M: <problem>` of a YAML error (line numbers 1-based), or its first line."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem or 'malformed YAML'}"
    return str(exc).splitlines()[0] if str(exc) else "malformed YAML"


def parse_yaml(text: str, source: str, error: type[Exception] = SpecError) -> Any:
    """YAML text -> data; `error(f"{source}: not valid YAML: line N, column M: ...")` when malformed."""
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML: {yaml_error_line(exc)}") from None


def read_yaml(path: str | Path, what: str = "file", error: type[Exception] = SpecError) -> Any:
    """Read a YAML file; a missing/unreadable file or malformed YAML raises `error` naming the file (and line)."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    return parse_yaml(text, str(path), error)


def read_mapping(path: str | Path, what: str = "file", error: type[Exception] = SpecError) -> dict[str, Any]:
    """A YAML file whose top level must be a mapping (an empty file is an empty mapping)."""
    data = read_yaml(path, what, error)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping at the top level of the {what}, got {type(data).__name__}")
    return data


def umask() -> int:
    """The process umask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _file_mode() -> int:
    return 0o666 & ~umask()


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path next to `path` (ending in `suffix`, for writers that check extensions); it replaces
    `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, _file_mode())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary directory that replaces `path` (a directory) only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~umask())
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
