"""The embedded mapper against every recorded MobileNetV2/CIFAR-10 Timeloop mapper run: on every layer, cycles <=
Timeloop's and energy <= 1.02 x Timeloop's (the recorded runs' problem, constraints, arch and mapper settings).
Per-layer times are reported by benchmarks/mapper.py; the MnasNet / FusioNet runs are in test_mapper_artifact.py.

The mapper runs once, on the fixtures' copy of the runs (its slowest test: not repeated on the corpus). With the
corpus present, the last test checks that the mapper's inputs read from the corpus are the ones read from the
fixtures, so the bar holds for the corpus too (the mapper is deterministic for a seed)."""

from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import pytest
from conftest import MOBILENET_RUNS, REFERENCE, corpus, run_names
from fixtures import RUNS_DIR, read_run

from engines.embedded import load_arch_and_energy, load_problem_cached
from engines.embedded.artifact import RecordedRun, map_recorded, meets_bar
from engines.embedded.mapspace import layer_constraints
from engines.parsers import parse_stats

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows(fixture_reference):
    root = fixture_reference / RUNS_DIR
    runs = [RecordedRun(root, root / name) for name in run_names()]
    assert len(runs) == 109
    recorded = [read_run(run.path) for run in runs]
    with ProcessPoolExecutor(2) as pool:
        accelerators, seeds = [fixture_reference / "accelerators"] * len(runs), [0] * len(runs)
        return list(pool.map(map_recorded, runs, accelerators, seeds, recorded))


def test_mapper_is_at_least_as_good_as_timeloop_on_every_layer(rows):
    misses = [r for r in rows if not meets_bar(r)]
    assert not misses, "; ".join(
        f"{r['run']}: cycles x{r['cycles_ratio']:.3f}, energy x{r['energy_ratio']:.4f}" for r in misses
    )
    # never worse than Timeloop on the fused main runs (fixed mapspace: a handful of mappings)
    assert all(
        r["cycles_ratio"] == 1.0 and r["energy_ratio"] <= 1.0 + 1e-9 for r in rows if "main_computations" in r["run"]
    )


def test_mapper_never_loses_on_cycles(rows):
    assert max(r["cycles_ratio"] for r in rows) <= 1.0


def _inputs(run: RecordedRun, accelerators) -> tuple:
    """What map_recorded gives the mapper (arch, energies, problem, resolved constraints) and compares with."""
    arch, energy = load_arch_and_energy(run.arch(accelerators))
    problem = load_problem_cached(run.problem)
    constraints = layer_constraints(run.constraints, arch, problem)
    return replace(arch, source=""), energy.vector_energy_pJ, problem, replace(constraints, sources=())


@corpus
def test_the_fixture_runs_give_the_mapper_the_corpus_inputs(fixture_reference):
    fixture_root = fixture_reference / RUNS_DIR
    for name in run_names():
        ours = RecordedRun(fixture_root, fixture_root / name)
        theirs = RecordedRun(MOBILENET_RUNS, MOBILENET_RUNS / name)
        assert _inputs(ours, fixture_reference / "accelerators") == _inputs(theirs, REFERENCE / "accelerators"), name
        recorded, fixture = parse_stats(theirs.path / "stats.txt"), read_run(ours.path)
        assert (recorded.cycles, recorded.total_energy_pJ) == (fixture.cycles, fixture.total_energy_pJ), name
