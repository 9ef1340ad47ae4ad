"""Timeloop `map.txt` -> `Mapping` (levels outermost first, loops in printed order).

A level header is `<name> [ Weights:n Inputs:n ... ]` (the tensors kept at that
level and their tile sizes; bare names when Timeloop printed no tile sizes),
followed by a dashed line and `| for D in [0:n)` lines, optionally suffixed
`(Spatial-X)` / `(Spatial-Y)`.

Placeholder loops: Timeloop drops every unit factor when it builds a loop nest
and then inserts `for <last problem dimension> in [0:1)` into each storage
level that was left without a temporal loop (`for Q in [0:1)` for CNN layers).
Loops of bound 1 therefore carry no information and are not kept: such a level
has no temporal loops in the `Mapping` (`ifmap_spad` has `loops == ()`,
`DummyBuffer` only its spatial loops), and `Mapping.factors` is unaffected.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..mapping import LevelMapping, Loop, Mapping
from .errors import ParseError
from .source import read_source

WHAT = "Timeloop map.txt"

HEADER_RE = re.compile(r"^\s*(?P<level>[^\s\[\]|]+(?:\[[^\]]*\])?) \[(?P<tiles>[^\]]*)\]\s*$")
LOOP_RE = re.compile(
    r"^\s*\|\s*for (?P<dim>\w+) in \[(?P<start>\d+):(?P<end>\d+)(?:,(?P<stride>\d+))?\)"
    r"(?: \(Spatial-(?P<axis>[XY])\))?\s*$"
)
TILE_RE = re.compile(r"^(?P<tensor>[^\s:]+)(?::(?P<size>\d+))?$")


def parse_map(path_or_text: str | Path) -> Mapping:
    """Parse a Timeloop map.txt given as a path or as its text."""
    text, source = read_source(path_or_text, WHAT)
    levels: list[tuple[str, list[Loop], list[str], dict[str, int]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or set(stripped) == {"-"}:
            continue
        header = HEADER_RE.match(line)
        loop = LOOP_RE.match(line)
        if header:
            keep, tile = _tiles(header.group("tiles"), source, number)
            levels.append((header.group("level"), [], keep, tile))
        elif loop:
            if not levels:
                raise ParseError(f"{source}:{number}: loop before the first level header")
            bound = int(loop.group("end")) - int(loop.group("start"))
            if bound < 1:
                raise ParseError(f"{source}:{number}: empty loop range in {stripped!r}")
            if bound > 1:
                levels[-1][1].append(Loop(loop.group("dim"), bound, loop.group("axis")))
        else:
            raise ParseError(
                f"{source}:{number}: unexpected line {stripped!r} (expected a level header "
                "'<level> [ Tensor:n ... ]' or a loop '| for D in [0:n)')"
            )
    if not levels:
        raise ParseError(f"{source}: no level header found (not a {WHAT}?)")
    return Mapping(tuple(LevelMapping(name, tuple(loops), tuple(keep), tile) for name, loops, keep, tile in levels))


def _tiles(text: str, source: str, number: int) -> tuple[list[str], dict[str, int]]:
    keep: list[str] = []
    tile: dict[str, int] = {}
    for token in text.split():
        match = TILE_RE.match(token)
        if not match:
            raise ParseError(f"{source}:{number}: bad tile entry {token!r} (expected Tensor:n)")
        keep.append(match.group("tensor"))
        if match.group("size") is not None:
            tile[match.group("tensor")] = int(match.group("size"))
    return keep, tile
