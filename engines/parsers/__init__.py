"""Parsers for Timeloop and Accelergy outputs. All parse by key, never by line position.

* `parse_stats(path_or_text) -> LayerStats`  Timeloop stats.txt (2021 and newer layouts)
* `parse_map(path_or_text) -> Mapping`       Timeloop map.txt
* `parse_run(run_dir) -> LayerStats`         stats + mapping of a run directory (reference or Timeloop names)
* `parse_map_stats_xml(path) -> dict`        timeloop-*.map+stats.xml (Boost XML archive), partial

Accelergy's energy and area tables (inputs as well as outputs) are read by specs.energy (`load_ert`, `load_art`).

Every parser raises `ParseError` (an `EngineError` and a `ValueError`) with a one-line
message naming the file and what is missing.
"""

from .errors import ParseError
from .map_stats_xml import parse_map_stats_xml
from .map_txt import parse_map
from .run import OUTPUT_PREFIXES, find_output, parse_run
from .stats_txt import parse_stats

__all__ = [
    "ParseError",
    "parse_stats",
    "parse_map",
    "parse_run",
    "find_output",
    "OUTPUT_PREFIXES",
    "parse_map_stats_xml",
]
