"""The one error type of the spec layer: an input file that cannot be used. Messages name the file and the field
(or the line, for malformed YAML)."""

from __future__ import annotations


class SpecError(ValueError):
    """A Timeloop/Accelergy input (arch, energy or area table, problem, constraints, mapper settings) or a
    fuseloop settings file that cannot be used."""
