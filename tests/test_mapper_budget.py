"""The embedded mapper's budget: a larger budget never gives a worse mapping, results are deterministic per seed,
the budget grows with the mapspace, and a caller's tie-break picks among equally good mappings
(engines/embedded/search.py; MAPPER_NOTES.md §3)."""

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks.artifact_corpus import layer_arch, workflow_inputs
from engines.embedded import load_arch_and_energy, load_problem_cached
from engines.embedded.mapper import read_mapper_settings
from engines.embedded.mapspace import Mapspace, layer_constraints
from engines.embedded.search import Search, SearchSettings

# (network, accelerator, layer, depthwise form): a dense 1x1, a coupled 5x5 prediction depthwise and a grouped 1x1
# prediction (issue 15's FusioNet b10.pred_decom, whose old search got worse with a larger victory condition).
LAYERS = [
    ("mobilenet", "dense", "b2.decom", "coupled"),
    ("mnasnet", "archon", "b3.pred_conv", "coupled"),
    ("fusionet", "archon", "b10.pred_decom", "coupled"),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("inputs")
    return {
        (net, acc, layer): workflow_inputs(net, "cifar10", acc, out, form) / layer for net, acc, layer, form in LAYERS
    }


def _search(layer_dir: Path, settings: SearchSettings, tie_break=None) -> Search:
    arch, energy = load_arch_and_energy(layer_arch(layer_dir))
    problem = load_problem_cached(layer_dir / "problem.yaml")
    files = [layer_dir / "constraints.yaml"]
    constraints = layer_constraints(files, arch, problem)
    return Search(arch, energy, problem, Mapspace(arch, problem, constraints), settings, tie_break=tie_break)


def _result(search: Search) -> tuple:
    stats = search.run()
    return stats.cycles, stats.total_energy_pJ, str(stats.mapping)


@pytest.mark.parametrize("net, acc, layer", [key[:3] for key in LAYERS])
def test_three_times_the_budget_extends_the_same_search(inputs, net, acc, layer):
    settings = read_mapper_settings(inputs[net, acc, layer] / "mapper.yaml")
    for seed, budget in ((0, 60), (1, 150)):
        small = _search(inputs[net, acc, layer], replace(settings, seed=seed, evaluations=budget))
        large = _search(inputs[net, acc, layer], replace(settings, seed=seed, evaluations=3 * budget))
        got_small, got_large = _result(small), _result(large)
        assert small.report.evaluated == budget and large.report.evaluated == 3 * budget
        assert got_large[:2] <= got_small[:2]  # never worse: fewer cycles, or as many and no more energy
        # the larger budget evaluates a longer prefix of the same stream: same improvements up to the smaller budget
        assert large.report.improvements[: len(small.report.improvements)] == small.report.improvements


@pytest.mark.parametrize("net, acc, layer", [key[:3] for key in LAYERS[1:]])
def test_three_times_the_victory_condition_is_never_worse(inputs, net, acc, layer):
    settings = read_mapper_settings(inputs[net, acc, layer] / "mapper.yaml")
    small = _search(inputs[net, acc, layer], replace(settings, victory_condition=100))
    large = _search(inputs[net, acc, layer], replace(settings, victory_condition=300))
    got_small, got_large = _result(small), _result(large)
    assert small.report.budget < large.report.budget
    assert large.report.evaluated >= small.report.evaluated
    assert got_large[:2] <= got_small[:2]


def test_results_are_deterministic_per_seed(inputs):
    layer_dir = inputs["mnasnet", "archon", "b3.pred_conv"]
    settings = replace(read_mapper_settings(layer_dir / "mapper.yaml"), evaluations=120)
    runs = [_search(layer_dir, replace(settings, seed=seed)) for seed in (4, 4, 5)]
    results = [_result(search) for search in runs]
    assert results[0] == results[1]
    assert runs[0].report.improvements == runs[1].report.improvements
    assert runs[0].report.improvements != runs[2].report.improvements  # another seed, another stream


def test_the_budget_grows_with_the_mapspace_and_the_victory_condition(inputs):
    settings = SearchSettings(victory_condition=1000)
    real = _search(inputs["mobilenet", "dense", "b2.decom"], settings).ms
    assert 3 < real.log10_size() < 6 and settings.budget(real) == 1500  # a reference-sized mapspace: scale 1
    tiny, huge = SimpleNamespace(log10_size=lambda: 3.0), SimpleNamespace(log10_size=lambda: 12.0)
    assert settings.budget(tiny) == 1500 and settings.budget(huge) == 1500 * 7  # +1 per decade above 10^6
    assert SearchSettings(victory_condition=3000).budget(huge) == 3 * settings.budget(huge)
    assert [SearchSettings(victory_condition=v).stall(real) for v in (100, 300, 1000, 2000)] == [120, 120, 250, 500]
    assert settings.stall(huge) == 250 * 7  # the stall limit scales like the budget


def test_a_tie_break_key_chooses_among_equally_good_mappings(inputs):
    layer_dir = inputs["mnasnet", "archon", "b3.pred_conv"]  # several loop orders cost the same here
    settings = replace(read_mapper_settings(layer_dir / "mapper.yaml"), evaluations=200)
    plain = _search(layer_dir, settings)
    plain_stats = plain.run()

    def key(stats):  # e.g. prefer the mapping with the fewest DRAM loops, then the last one in text order
        return len(stats.mapping.levels[0].loops), [-ord(ch) for ch in str(stats.mapping)]

    chosen = _search(layer_dir, settings, tie_break=key)
    chosen_stats = chosen.run()
    assert chosen.report.improvements == plain.report.improvements  # the key does not steer the search
    tied = [
        chosen.stats[k] for k, v in chosen.cache.items() if v is not None and v == pytest.approx(chosen.best, rel=1e-9)
    ]
    assert len(tied) >= 2  # the test needs a real choice
    assert key(chosen_stats) == min(key(s) for s in tied)
    assert (chosen_stats.cycles, chosen_stats.total_energy_pJ) == pytest.approx(chosen.best, rel=1e-9)
    assert str(chosen_stats.mapping) != str(plain_stats.mapping) or key(plain_stats) == min(key(s) for s in tied)
