"""The embedded mapper: timeloop-mapper's inputs in, the best mapping's LayerStats out.

Mapper YAML keys (Timeloop's `mapper:` section) and how they are read:

* `optimization-metrics` (or a single `optimization-metric`): lexicographic objective over delay, energy, edp,
  last-level-accesses; Timeloop's default when absent is [edp], and so is ours (no file at all: Timeloop's
  defaults for every key). Candidates are compared exactly (Timeloop treats differences under 0.1% as ties
  and moves on to the next metric);
* `victory-condition` (V): search effort. The search stops after max(120, V / 4) x scale consecutive evaluations
  that do not improve the best mapping by more than 0.1 %, or at the budget of 1.5 x V x scale evaluations, scale
  being the mapspace's (1 up to 10^6 mappings, +1 per decade above; `search.SearchSettings`). The search is one
  seeded stream of evaluations that these limits only cut, so a larger V never returns a worse mapping
  (MAPPER_NOTES.md §3). Timeloop's threads each stop after V consecutive non-improving random samples; our local
  search needs far fewer evaluations and finds mappings at least as good on the reference layers;
* `timeout` (alias `heartbeat`, default 1000): consecutive invalid samples before a parallelism group stops
  sampling;
* `victory-condition` defaults to 500, as in Timeloop;
* `tie-break` (fuseloop's key; Timeloop has none and fuseloop leaves it out of Timeloop's inputs): which of several
  mappings with equal metric values to return: `first` (default: the first one found) or `weight-balance` (the
  one whose PEs share a weight-pruned layer's work most evenly; tiebreak.py);
* `num-threads`, `algorithm`, `max-permutations-per-if-visit`, `search-size`, `sync-interval`, `live-status`,
  `log-*`, `diagnostics`: accepted and ignored (the search is single-threaded and deterministic for a seed, and
  always the sampling + local search of `search.py` / `group.py`, whatever `algorithm` names).

    python -m engines.embedded.mapper ARCH_DIR PROBLEM.yaml CONSTRAINTS.yaml [...] MAPPER.yaml [-o OUTDIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from specs.arch import ArchSpec
from specs.mapper import MapperSettings, parse_mapper_section, read_mapper

from ..base import EngineError
from ..stats import LayerStats
from .energy import EnergyTable
from .mapspace import Mapspace, layer_constraints
from .problem import Problem
from .search import Search, SearchSettings
from .tiebreak import tie_break_key


def read_mapper_settings(path: str | Path | None, seed: int = 0) -> SearchSettings:
    """Search settings from a Timeloop mapper YAML (`mapper:` section or bare keys); None = Timeloop's defaults."""
    return _search_settings(read_mapper(path), seed)


def settings_from_section(section: object, source: str, seed: int = 0) -> SearchSettings:
    """Search settings from a `mapper:` section (a dict); keys left out take timeloop-mapper's defaults.
    `source` names where the section came from in errors."""
    return _search_settings(parse_mapper_section(section, source), seed)


def _search_settings(settings: MapperSettings, seed: int) -> SearchSettings:
    return SearchSettings(
        metrics=settings.metrics,
        victory_condition=settings.victory_condition,
        timeout=settings.timeout,
        seed=seed,
        tie_break=settings.tie_break,
    )


def map_layer(
    arch: ArchSpec,
    energy: EnergyTable,
    problem: Problem,
    constraint_files: Sequence[str | Path],
    settings: SearchSettings,
    progress=None,
    tie_break: Callable[[LayerStats], Any] | None = None,
) -> LayerStats:
    """The best mapping the search finds. `tie_break`: among mappings with equal metric values, return the one
    with the smallest key; default: the key of `settings.tie_break` (tiebreak.py; "first": the first one found)."""
    constraints = layer_constraints(constraint_files, arch, problem)
    tie_break = tie_break or tie_break_key(settings.tie_break, problem)
    search = Search(arch, energy, problem, Mapspace(arch, problem, constraints), settings, progress, tie_break)
    stats = search.run()
    report = search.report
    stats.meta.update(
        {
            "mapper": {
                "evaluated": report.evaluated,
                "valid": report.valid,
                "budget": report.budget,
                "stopped": report.stopped,
                "parallelism_groups": report.groups,
                "seed": settings.seed,
                "metrics": list(settings.metrics),
                "tie_break": settings.tie_break,
            }
        }
    )
    return stats


class _Progress:
    """A one-line progress indicator on stderr, only when it is a terminal."""

    def __init__(self, label: str):
        self.label, self.enabled = label, sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.enabled and (done % 25 == 0 or done == total):
            sys.stderr.write(f"\r{self.label}: {done}/{total} mappings evaluated")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engines.embedded.mapper",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("arch", type=Path, help="architecture directory (arch.yaml + ERT.yaml)")
    parser.add_argument("problem", type=Path)
    parser.add_argument("constraints", type=Path, nargs="+", help="constraint YAMLs, then the mapper YAML last")
    parser.add_argument("-o", "--outdir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from . import EmbeddedEngine

    *constraints, mapper = args.constraints
    engine = EmbeddedEngine(seed=args.seed)
    progress = _Progress(args.problem.name)
    try:
        stats = engine.evaluate(args.arch, args.problem, constraints, mapper, outdir=args.outdir, progress=progress)
    except EngineError as exc:
        progress.close()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    progress.close()
    print(stats.mapping)
    print(f"cycles {stats.cycles}  energy {stats.total_energy_pJ * 1e-6:.4f} uJ  utilization {stats.utilization:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
