"""Reading a parser's input: a path, or the file's text itself."""

from __future__ import annotations

from pathlib import Path
from typing import overload

from .errors import ParseError

TEXT_SOURCE = "<text>"


def read_source(path_or_text: str | Path, what: str) -> tuple[str, str]:
    """(text, source name) for a path or for the text itself.

    A `Path`, or a `str` without a newline, is a file name; any other `str` is
    the file's content (its source name is "<text>"). `what` names the expected
    file in error messages (e.g. "Timeloop stats.txt").
    """
    if isinstance(path_or_text, Path) or ("\n" not in path_or_text and path_or_text.strip()):
        path = Path(path_or_text)
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise ParseError(f"{path}: no such file (expected a {what})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ParseError(f"{path}: cannot read {what}: {exc}") from None
        source = str(path)
    else:
        text, source = path_or_text, TEXT_SOURCE
    if not text.strip():
        raise ParseError(f"{source}: empty file (expected a {what})")
    return text, source


@overload
def first_number(value: str, source: str, field: str, kind: type[int]) -> int: ...
@overload
def first_number(value: str, source: str, field: str, kind: type[float] = float) -> float: ...


def first_number(value: str, source: str, field: str, kind: type[int] | type[float] = float) -> int | float:
    """The leading number of a printed value (`72 (8*9)` -> 72, `0.30 pJ` -> 0.3, `89.00%` -> 89.0)."""
    tokens = value.split()
    token = tokens[0].rstrip("%") if tokens else ""
    try:
        number = float(token)
    except ValueError:
        raise ParseError(f"{source}: {field}: expected a number, found {value!r}") from None
    if kind is int:
        if not number.is_integer():
            raise ParseError(f"{source}: {field}: expected an integer, found {value!r}")
        return int(token) if token.lstrip("-").isdigit() else int(number)
    return number
