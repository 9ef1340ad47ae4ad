"""A Timeloop run directory -> `LayerStats` with the mapping attached."""
from __future__ import annotations

from pathlib import Path

from ..stats import LayerStats
from .common import ParseError
from .map_txt import parse_map
from .stats_txt import parse_stats

PREFIXES = ("", "timeloop-mapper.", "timeloop-model.")


def find_output(run_dir: str | Path, name: str) -> Path:
    """`stats.txt` / `map.txt` of a run directory, in the reference layout or Timeloop's output names."""
    run_dir = Path(run_dir)
    for prefix in PREFIXES:
        path = run_dir / f"{prefix}{name}"
        if path.is_file():
            return path
    raise ParseError(f"{run_dir}: no {name} (looked for {', '.join(p + name for p in PREFIXES)})")


def parse_run(run_dir: str | Path) -> LayerStats:
    stats = parse_stats(find_output(run_dir, "stats.txt"))
    stats.mapping = parse_map(find_output(run_dir, "map.txt"))
    stats.meta["run_dir"] = str(run_dir)
    return stats
