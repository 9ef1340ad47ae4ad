"""The error every Timeloop/Accelergy output parser raises."""

from __future__ import annotations

from ..base import EngineError


class ParseError(EngineError, ValueError):
    """A Timeloop or Accelergy output file is missing, empty, truncated or malformed.

    The message is one line: `<file>: <what is missing or wrong>`.
    """
