"""Shared helpers of the parsers."""
from __future__ import annotations

from pathlib import Path


class ParseError(ValueError):
    """A file that is not what its parser expects; the message names the file and what is missing."""


def read_text(path_or_text: str | Path, what: str) -> tuple[str, str]:
    """(text, source name) of a path or of text itself (a str with a newline is text)."""
    if isinstance(path_or_text, Path) or "\n" not in str(path_or_text):
        path = Path(path_or_text)
        try:
            return path.read_text(), str(path)
        except OSError as exc:
            raise ParseError(f"{path}: cannot read {what}: {exc.strerror}") from None
    return str(path_or_text), f"<{what} text>"
