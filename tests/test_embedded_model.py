"""Golden test: the embedded model reproduces every recorded Timeloop run of MobileNetV2/CIFAR-10.

For each of the 109 runs, the recorded mapping (map.txt) is evaluated on the
architecture + ERT the run used; cycles must match exactly, total energy within
1 %, each level's energy within 2 %, and per tensor the scalar reads / updates /
fills, partition size, utilized capacity and utilized instances exactly. The runs are
read from the reference corpus and from the fixtures (tests/fixtures, the same figures).

Which architecture each run used (checked below against each stats.txt SPECS:
shared_glb size and arithmetic instances):

| runs                                   | accelerators/ directory          | GLB words | PEs |
|----------------------------------------|----------------------------------|-----------|-----|
| baseline/*, head_and_tail/baseline/*   | baseline (arch.yaml + ERT.yaml)  | 55296     | 72  |
| fusion/main_computations/*             | fusion/main                      | 51200     | 64  |
| fusion/predictions/*                   | fusion/predictions-128KiB-glb    | 65536     | 64  |
|                                        | (flattened_architecture.yaml)    |           |     |
| head_and_tail/fused/*                  | fusion/predictions (committed,   | 51200     | 64  |
|                                        | 12800 x 64 bits, 25 banks)       |           |     |
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import MOBILENET_RUNS, REFERENCE, corpus, run_names
from fixtures import read_run

from engines.embedded import EmbeddedEngine
from engines.embedded.artifact import RecordedRun
from engines.mapping import Mapping
from engines.parsers import parse_map, parse_stats
from engines.stats import LayerStats
from specs.arch import load_arch

ACCELERATORS = REFERENCE / "accelerators"
TENSOR_FIGURES = ("partition_size", "utilized_capacity", "utilized_instances", "reads", "updates", "fills")

TOTAL_ENERGY_TOL = 0.01
LEVEL_ENERGY_TOL = 0.02
EXPECTED_RUNS = 109


def arch_dir(run: Path, runs_root: Path = MOBILENET_RUNS, accelerators: Path = ACCELERATORS) -> Path:
    return RecordedRun(runs_root, run).arch(accelerators)


def read_map(path: Path) -> Mapping:
    return parse_map(path)


def read_stats(path: Path) -> dict:
    """The recorded stats.txt as plain numbers (per level: cycles, energy, per-tensor counts), plus SPECS text."""
    stats = parse_stats(path)
    specs = {name: chunk for name, chunk in re.findall(r"=== (\w+) ===(.*?)STATS", path.read_text(), re.S)}
    levels = {}
    for level in stats.levels:
        tensors = {
            name: {
                "partition_size": t.partition_size,
                "utilized_capacity": t.utilized_capacity,
                "utilized_instances": t.utilized_instances,
                "reads": t.reads,
                "updates": t.updates,
                "fills": t.fills,
                "energy": t.energy_pJ,
            }
            for name, t in level.tensors.items()
        }
        levels[level.name] = {
            "cycles": level.cycles,
            "energy": level.energy_pJ,
            "tensors": tensors,
            "specs": specs[level.name],
            "utilized_instances": level.utilized_instances,
        }
    return {"levels": levels, "total_energy": stats.total_energy_pJ, "cycles": stats.cycles, "maccs": stats.macs}


# ---- the golden comparison ----


def compare(got: LayerStats, expected: LayerStats) -> tuple[list[str], dict[str, float]]:
    """(mismatches, worst relative errors) of the engine's stats against a recorded run's."""
    problems: list[str] = []
    worst = {
        "cycles": abs(got.cycles - expected.cycles) / expected.cycles,
        "total": abs(got.total_energy_pJ - expected.total_energy_pJ) / expected.total_energy_pJ,
        "level": 0.0,
    }
    if got.cycles != expected.cycles:
        problems.append(f"cycles {got.cycles} != {expected.cycles}")
    if got.macs != expected.macs:
        problems.append(f"MACCs {got.macs} != {expected.macs}")
    if worst["total"] > TOTAL_ENERGY_TOL:
        problems.append(f"total energy {got.total_energy_pJ:.2f} vs {expected.total_energy_pJ:.2f} pJ")
    if [lvl.name for lvl in got.levels] != [lvl.name for lvl in expected.levels]:
        problems.append(f"levels {[lvl.name for lvl in got.levels]} != {[lvl.name for lvl in expected.levels]}")
    recorded = {lvl.name: lvl for lvl in expected.levels}
    for lvl in got.levels:
        exp = recorded.get(lvl.name)
        if exp is None:
            continue
        rel = abs(lvl.energy_pJ - exp.energy_pJ) / exp.energy_pJ if exp.energy_pJ else abs(lvl.energy_pJ)
        worst["level"] = max(worst["level"], rel)
        if rel > LEVEL_ENERGY_TOL:
            problems.append(f"{lvl.name} energy {lvl.energy_pJ:.2f} vs {exp.energy_pJ:.2f} pJ")
        if lvl.cycles != exp.cycles:
            problems.append(f"{lvl.name} cycles {lvl.cycles} != {exp.cycles}")
        if set(lvl.tensors) != set(exp.tensors):
            problems.append(f"{lvl.name} keeps {sorted(lvl.tensors)}, expected {sorted(exp.tensors)}")
        for tensor, ts in lvl.tensors.items():
            for key in TENSOR_FIGURES:
                want = getattr(exp.tensors[tensor], key) if tensor in exp.tensors else getattr(ts, key)
                if getattr(ts, key) != want:
                    problems.append(f"{lvl.name}.{tensor}.{key} {getattr(ts, key)} != {want}")
    return problems, worst


def compare_run(run: str, engine: EmbeddedEngine, reference_dir: Path) -> tuple[list[str], dict[str, float]]:
    """The engine on a recorded run's arch, problem and mapping, against the run's stats (`compare`)."""
    runs_root = reference_dir / "timeloop-runs" / "mobilenet-cifar10"
    expected = read_run(runs_root / run)
    got = engine.model(
        arch_dir(runs_root / run, runs_root, reference_dir / "accelerators"),
        runs_root / run / "prob" / "prob.yaml",
        expected.mapping,
    )
    return compare(got, expected)


RUNS = run_names()


@corpus
def test_all_reference_runs_present():
    found = sorted(p.parent.relative_to(MOBILENET_RUNS).as_posix() for p in MOBILENET_RUNS.rglob("stats.txt"))
    assert len(found) == EXPECTED_RUNS, f"expected {EXPECTED_RUNS} runs under {MOBILENET_RUNS}, found {len(found)}"
    assert found == RUNS  # the runs the fixtures hold


def test_fixtures_hold_every_run():
    assert len(RUNS) == EXPECTED_RUNS


@corpus
@pytest.mark.parametrize("run", RUNS)
def test_arch_assignment_matches_recorded_specs(run: str):
    run = MOBILENET_RUNS / run
    expected = read_stats(run / "stats.txt")
    arch = load_arch(arch_dir(run))
    glb = arch.storage[arch.storage_index("shared_glb")]
    assert int(re.search(r"Size\s*:\s*(\d+)", expected["levels"]["shared_glb"]["specs"]).group(1)) == glb.size
    assert re.search(r"Instances\s*:\s*(\d+)", expected["levels"][arch.arithmetic.name]["specs"]).group(1) == str(
        arch.arithmetic.instances
    )


@pytest.mark.parametrize("run", RUNS)
def test_model_reproduces_timeloop(run: str, reference_dir: Path):
    problems, worst = compare_run(run, EmbeddedEngine("fast"), reference_dir)
    assert not problems, (
        f"{run}: worst rel. err cycles {worst['cycles']:.2e}, total energy "
        f"{worst['total']:.2e}, level energy {worst['level']:.2e}; " + "; ".join(problems[:12])
    )


@pytest.mark.slow
@pytest.mark.parametrize("run", RUNS[::6])
def test_reference_analysis_reproduces_timeloop(run: str, reference_dir: Path):
    """The slow step-by-step replay reproduces the same runs (every 6th, to keep the suite fast)."""
    problems, worst = compare_run(run, EmbeddedEngine("reference"), reference_dir)
    assert not problems, f"{run}: " + "; ".join(problems[:12])
