"""Parsers for Timeloop and Accelergy outputs. All parse by key, never by line position."""
from .accelergy import AreaTable, EnergyTable, load_art, load_ert
from .map_txt import parse_map
from .map_stats_xml import parse_map_stats_xml
from .run import find_output, parse_run
from .stats_txt import ParseError, parse_stats

__all__ = ["ParseError", "parse_stats", "parse_map", "parse_run", "find_output", "parse_map_stats_xml",
           "load_ert", "load_art", "EnergyTable", "AreaTable"]
