"""The paper artifact's recorded Timeloop runs: which architecture and mapper settings each one used.

A run directory (e.g. `baseline/b1/decom`) holds `prob/prob.yaml`, `constraints/*.yaml`, `stats.txt` and
`map.txt`. Used to validate the embedded model (recorded mapping in, same numbers out) and mapper (same inputs,
at least as good a mapping).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..stats import LayerStats
    from .search import SearchSettings

# run directory prefix -> accelerator directory (checked against each stats.txt's SPECS by the golden test)
ARCH_OF_RUN = {
    "baseline/": "baseline",
    "head_and_tail/baseline/": "baseline",
    "fusion/main_computations/": "fusion/main",
    "fusion/predictions/": "fusion/predictions-128KiB-glb",  # an older 128 KiB-GLB predictions arch
    "head_and_tail/fused/": "fusion/predictions",
}

# run directory prefix -> entry prefix in arch/mappers/mappers.yaml (the artifact's mapper settings per kind of run)
MAPPER_OF_RUN = {
    "baseline/": "body",
    "head_and_tail/baseline/head/": "baseline_head",
    "head_and_tail/baseline/tail/": "baseline_tail",
    "fusion/main_computations/": "main",
    "fusion/predictions/": "body",
    "head_and_tail/fused/fus_head/": "fused_head",
    "head_and_tail/fused/fus_tail/": "fused_tail",
}


@dataclass(frozen=True)
class RecordedRun:
    root: Path  # .../timeloop-runs/<network>
    path: Path  # the run directory

    @property
    def name(self) -> str:
        return self.path.relative_to(self.root).as_posix()

    def _lookup(self, table: dict):
        for prefix, value in table.items():
            if (self.name + "/").startswith(prefix):
                return value
        raise KeyError(f"{self.path}: not a run directory of the paper artifact's layout")

    def arch(self, accelerators: Path) -> Path:
        return accelerators / self._lookup(ARCH_OF_RUN)

    @property
    def problem(self) -> Path:
        return self.path / "prob" / "prob.yaml"

    @property
    def constraints(self) -> list[Path]:
        return sorted((self.path / "constraints").glob("*.yaml"))

    def mapper_settings(self, kernel_area: int, seed: int = 0) -> SearchSettings:
        """The search settings of the artifact's mapper entry for this run (k x k layers used the "dw mapper"):
        its optimization metrics, timeout and victory-condition, read as a mapper YAML would be."""
        from specs.mapper import ARTIFACT_TABLE, artifact_mapper

        from .mapper import settings_from_section

        where = self._lookup(MAPPER_OF_RUN)
        name = where if where == "main" else f"{where}_{'depthwise' if kernel_area > 1 else 'pointwise'}"
        return settings_from_section(artifact_mapper(name)["mapper"], f"{ARTIFACT_TABLE}: settings.{name}", seed)


def recorded_runs(root: Path) -> list[RecordedRun]:
    return [RecordedRun(root, p.parent) for p in sorted(root.rglob("stats.txt"))]


QUALITY_ENERGY = 1.02  # the mapper's bar: energy within 2% of Timeloop's (lower is welcome), cycles no more


def map_recorded(run: RecordedRun, accelerators: Path, seed: int = 0, recorded: LayerStats | None = None) -> dict:
    """Map a recorded run's problem with the embedded mapper (same arch, constraints and mapper settings)
    and compare with what Timeloop recorded (`recorded`, by default read from the run's stats.txt): time, cycle
    and energy ratios, and the constraints the found mapping breaks (`legality.mapping_violations`, expected empty)."""
    import time

    from ..base import EngineError
    from ..parsers import parse_stats
    from . import load_arch_and_energy, load_problem_cached
    from .legality import mapping_violations
    from .mapper import map_layer
    from .mapspace import layer_constraints

    arch, energy = load_arch_and_energy(run.arch(accelerators))
    problem = load_problem_cached(run.problem)
    bounds = dict(zip(problem.dims, problem.bounds, strict=True))
    settings = run.mapper_settings(bounds.get("R", 1) * bounds.get("S", 1), seed)
    start = time.perf_counter()
    stats = map_layer(arch, energy, problem, run.constraints, settings)
    seconds = time.perf_counter() - start
    if stats.mapping is None:
        raise EngineError(f"run {run.name}: the mapper returned no mapping")
    if recorded is None:
        recorded = parse_stats(run.path / "stats.txt")
    constraints = layer_constraints(run.constraints, arch, problem)
    return {
        "run": run.name,
        "seconds": seconds,
        "cycles_ratio": stats.cycles / recorded.cycles,
        "energy_ratio": stats.total_energy_pJ / recorded.total_energy_pJ,
        "evaluated": stats.meta["mapper"]["evaluated"],
        "violations": mapping_violations(stats.mapping, constraints, arch, problem),
    }


def meets_bar(row: dict) -> bool:
    return row["cycles_ratio"] <= 1.0 and row["energy_ratio"] <= QUALITY_ENERGY and not row.get("violations")
