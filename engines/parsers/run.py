"""A Timeloop run directory -> `LayerStats` with the mapping attached.

Accepted layouts (tried in this order, the first whose stats file exists wins):

* the reference layout: `stats.txt` + `map.txt`;
* Timeloop's mapper output: `timeloop-mapper.stats.txt` + `timeloop-mapper.map.txt`;
* Timeloop's model output: `timeloop-model.stats.txt` + `timeloop-model.map.txt`.
"""

from __future__ import annotations

from pathlib import Path

from ..stats import LayerStats
from .errors import ParseError
from .map_txt import parse_map
from .stats_txt import parse_stats

OUTPUT_PREFIXES = ("", "timeloop-mapper.", "timeloop-model.")


def find_output(run_dir: str | Path, name: str, prefixes: tuple[str, ...] = OUTPUT_PREFIXES) -> Path:
    """`<prefix><name>` in a run directory for the first prefix that exists (name: `stats.txt`, `map.txt`, ...)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ParseError(f"{run_dir}: no such run directory")
    for prefix in prefixes:
        path = run_dir / f"{prefix}{name}"
        if path.is_file():
            return path
    raise ParseError(f"{run_dir}: no {name} (looked for {', '.join(p + name for p in prefixes)})")


def parse_run(run_dir: str | Path, prefix: str | None = None) -> LayerStats:
    """Stats and mapping of one run directory. `prefix` ("timeloop-mapper." ...) picks one layout; by
    default the first layout present is used, and its stats and map files must both exist."""
    stats_path = find_output(run_dir, "stats.txt", OUTPUT_PREFIXES if prefix is None else (prefix,))
    chosen = stats_path.name[: -len("stats.txt")]
    map_path = find_output(run_dir, "map.txt", (chosen,))
    stats = parse_stats(stats_path)
    stats.mapping = parse_map(map_path)
    stats.meta.update(run_dir=str(run_dir), stats_file=str(stats_path), map_file=str(map_path))
    return stats
