"""The embedded engine: a Timeloop-compatible analytical model (and, later, mapper) in Python.

It reads what `timeloop-model` reads (a Timeloop v0.3 architecture, Accelergy's
ERT.yaml, a problem YAML, a mapping) and returns the numbers Timeloop prints,
validated against the recorded reference runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from specs.arch import ArchSpec, find_arch_file, load_arch
from specs.io import write_text
from specs.table_record import check_generated_table

from ..base import Engine, EngineError, PathLike
from ..mapping import Mapping
from ..stats import LayerStats
from .analysis import fast_analysis
from .energy import EnergyTable, find_ert_file, load_energy_table
from .model import evaluate_mapping
from .problem import Problem, load_problem
from .reference import reference_analysis

ANALYSES = {"fast": fast_analysis, "reference": reference_analysis}

STATS_FILE = "stats.json"
MAP_FILE = "map.txt"


@lru_cache(maxsize=64)
def _cached_arch(arch_file: str, arch_mtime: float, ert_file: str, ert_mtime: float) -> tuple[ArchSpec, EnergyTable]:
    check_generated_table(arch_file, ert_file)  # a generated table must have been made for this arch
    return load_arch(arch_file), load_energy_table(ert_file)


@lru_cache(maxsize=256)
def _cached_problem(path: str, mtime: float) -> Problem:
    return load_problem(path)


def load_arch_and_energy(arch: PathLike) -> tuple[ArchSpec, EnergyTable]:
    """Architecture plus its energy table (ERT.yaml next to it), cached on path and mtime."""
    arch_file, ert_file = find_arch_file(arch).resolve(), find_ert_file(arch).resolve()
    return _cached_arch(str(arch_file), arch_file.stat().st_mtime, str(ert_file), ert_file.stat().st_mtime)


def load_problem_cached(problem: PathLike) -> Problem:
    path = Path(problem)
    if not path.is_file():
        raise EngineError(f"{path}: problem file does not exist")
    return _cached_problem(str(path.resolve()), path.stat().st_mtime)


class EmbeddedEngine(Engine):
    """`analysis`: "fast" (closed form, default) or "reference" (step-by-step replay, slow)."""

    name = "embedded"

    def __init__(self, analysis: str = "fast", seed: int = 0, **unknown):
        if unknown:
            raise EngineError(f"unknown embedded engine option(s) {sorted(unknown)}; options are analysis, seed")
        if analysis not in ANALYSES:
            raise EngineError(f"unknown embedded analysis {analysis!r}; choose one of {', '.join(ANALYSES)}")
        self.analysis = analysis
        self.seed = int(seed)

    def model(
        self, arch: PathLike, problem: PathLike, mapping: Mapping, *, outdir: PathLike | None = None
    ) -> LayerStats:
        arch_spec, energy = load_arch_and_energy(arch)
        prob = load_problem_cached(problem)
        stats = evaluate_mapping(arch_spec, energy, prob, mapping, ANALYSES[self.analysis])
        stats.meta.update({"arch": str(arch), "problem_file": str(problem), "analysis": self.analysis})
        if outdir is not None:
            _write_outputs(Path(outdir), stats)
        return stats

    def evaluate(
        self,
        arch: PathLike,
        problem: PathLike,
        constraints: Sequence[PathLike],
        mapper: PathLike,
        *,
        outdir: PathLike | None = None,
        threads: int = 1,
        progress=None,
    ) -> LayerStats:
        """Search the constrained mapspace (see `mapper.py` for how the mapper YAML is read)."""
        from .mapper import map_layer, read_mapper_settings

        arch_spec, energy = load_arch_and_energy(arch)
        prob = load_problem_cached(problem)
        settings = read_mapper_settings(mapper, seed=self.seed)
        stats = map_layer(arch_spec, energy, prob, list(constraints), settings, progress)
        stats.meta.update({"arch": str(arch), "problem_file": str(problem)})
        if outdir is not None:
            _write_outputs(Path(outdir), stats)
        return stats


def _write_outputs(out: Path, stats: LayerStats) -> None:
    for name, text in ((STATS_FILE, stats.to_json()), (MAP_FILE, str(stats.mapping))):
        write_text(out / name, text + "\n")


__all__ = [
    "EmbeddedEngine",
    "evaluate_mapping",
    "load_arch",
    "load_energy_table",
    "load_problem",
    "fast_analysis",
    "reference_analysis",
]
