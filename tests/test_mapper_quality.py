"""The embedded mapper against every recorded MobileNetV2/CIFAR-10 Timeloop mapper run: on every layer, cycles <=
Timeloop's and energy <= 1.02 x Timeloop's (the recorded runs' problem, constraints, arch and mapper settings).
Per-layer times are reported by benchmarks/mapper.py; the MnasNet / FusioNet runs are in test_mapper_artifact.py."""
from concurrent.futures import ProcessPoolExecutor

import pytest

from conftest import MOBILENET_RUNS, REFERENCE
from engines.embedded.artifact import map_recorded, meets_bar, recorded_runs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows():
    runs = recorded_runs(MOBILENET_RUNS)
    assert len(runs) == 109
    with ProcessPoolExecutor(2) as pool:
        return list(pool.map(map_recorded, runs, [REFERENCE / "accelerators"] * len(runs)))


def test_mapper_is_at_least_as_good_as_timeloop_on_every_layer(rows):
    misses = [r for r in rows if not meets_bar(r)]
    assert not misses, "; ".join(f"{r['run']}: cycles x{r['cycles_ratio']:.3f}, energy x{r['energy_ratio']:.4f}"
                                 for r in misses)
    # never worse than Timeloop on the fused main runs (fixed mapspace: a handful of mappings)
    assert all(r["cycles_ratio"] == 1.0 and r["energy_ratio"] <= 1.0 + 1e-9
               for r in rows if "main_computations" in r["run"])


def test_mapper_never_loses_on_cycles(rows):
    assert max(r["cycles_ratio"] for r in rows) <= 1.0
