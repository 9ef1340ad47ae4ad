"""Timeloop `map.txt` -> `Mapping` (levels outermost first, loops in printed order).

Timeloop prints a placeholder `for Q in [0:1)` in a level without loops; loops of bound 1 carry no
information and are dropped, so `parse_map(str(mapping)) == mapping` for mappings without unit loops.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..mapping import LevelMapping, Loop, Mapping
from .common import ParseError, read_text

_HEADER = re.compile(r"^(?P<level>[\w\[\].]+) \[(?P<tiles>[^\]]*)\]\s*$")
_LOOP = re.compile(r"^\|\s*for (?P<dim>\w+) in \[(?P<start>\d+):(?P<end>\d+)(?:,\d+)?\)(?: \(Spatial-(?P<axis>[XY])\))?\s*$")
_TILE = re.compile(r"(\w+):(\d+)")


def parse_map(path_or_text: str | Path) -> Mapping:
    text, source = read_text(path_or_text, "map.txt")
    levels: list[dict] = []
    for number, line in enumerate(text.splitlines(), 1):
        if m := _HEADER.match(line):
            tile = {k: int(v) for k, v in _TILE.findall(m["tiles"])}
            levels.append({"level": m["level"], "loops": [], "tile": tile})
        elif m := _LOOP.match(line):
            if not levels:
                raise ParseError(f"{source}:{number}: loop before any level header")
            bound = int(m["end"]) - int(m["start"])
            if bound > 1:
                levels[-1]["loops"].append(Loop(m["dim"], bound, m["axis"]))
        elif line.strip() and not set(line.strip()) <= {"-"}:
            raise ParseError(f"{source}:{number}: unexpected line {line.strip()!r}")
    if not levels:
        raise ParseError(f"{source}: no level headers (not a Timeloop map.txt?)")
    return Mapping(tuple(LevelMapping(x["level"], tuple(x["loops"]), tuple(x["tile"]), x["tile"]) for x in levels))
