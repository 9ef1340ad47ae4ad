"""Which of several equally good dense mappings the mapper returns (engines/embedded/tiebreak.py): the dense runs
the sparse accelerator re-costs break ties toward the mapping whose PEs share pruned work most evenly, which is
deterministic, in the run key, and what decides MobileNetV2 b7.conv's sparse cycles (issue 15)."""

from dataclasses import replace
from itertools import product
from math import comb, isclose

import pytest
import yaml

from benchmarks.artifact_corpus import layer_arch, workflow_inputs
from engines.embedded import load_arch_and_energy, load_problem_cached
from engines.embedded.mapper import map_layer, read_mapper_settings
from engines.embedded.mapspace import Mapspace, layer_constraints
from engines.embedded.search import Search, _tied
from engines.embedded.tiebreak import (
    expected_max_binomial,
    expected_sparse_cycles,
    pass_structure,
    pe_level,
    tie_break_key,
)
from sparsity.evaluate import evaluate_layer
from sparsity.imbalance import analyse
from sparsity.kernels import problem_tensor, split_problems
from sparsity.params import load_params
from sparsity.pruning import pruned_weights
from specs.errors import SpecError
from specs.mapper import mapper_document, parse_mapper_section, with_overrides
from workflows import config as wfconfig
from workflows import plan

LAYER = "b7.conv"  # a depthwise 3x3 layer with many equally good dense mappings


@pytest.fixture(scope="module")
def b7(tmp_path_factory):
    layer_dir = workflow_inputs("mobilenet", "cifar10", "dense", tmp_path_factory.mktemp("inputs"), "coupled") / LAYER
    arch, energy = load_arch_and_energy(layer_arch(layer_dir))
    problem = load_problem_cached(layer_dir / "problem.yaml")
    settings = read_mapper_settings(layer_dir / "mapper.yaml")
    files = [layer_dir / "constraints.yaml"]
    network = plan.network("mobilenet", "cifar10", "sparse")
    layer = next(x for x in network.layers() if x.name == LAYER)
    params = load_params("default", bound="conservative")
    weights = pruned_weights(network, params.target_sparsity, 0)[LAYER]
    return layer_dir, arch, energy, problem, settings, files, layer, params, weights


def _sparse_cycles(b7, stats) -> int:
    *_, layer, params, weights = b7
    return evaluate_layer(layer, stats, weights, params).cycles


def test_the_dense_runs_ask_for_weight_balance_and_the_choice_is_deterministic(b7):
    layer_dir, arch, energy, problem, settings, files, *_ = b7
    assert yaml.safe_load((layer_dir / "mapper.yaml").read_text())["mapper"]["tie-break"] == "weight-balance"
    assert settings.tie_break == "weight-balance"
    balanced = [map_layer(arch, energy, problem, files, settings) for _ in range(2)]
    first = map_layer(arch, energy, problem, files, replace(settings, tie_break="first"))
    assert str(balanced[0].mapping) == str(balanced[1].mapping)  # deterministic
    assert balanced[0].meta["mapper"]["tie_break"] == "weight-balance"
    # the same dense cost, another mapping, and fewer sparse cycles with the generated pruned weights (seed 0)
    assert balanced[0].cycles == first.cycles
    assert isclose(balanced[0].total_energy_pJ, first.total_energy_pJ, rel_tol=1e-9)
    assert str(balanced[0].mapping) != str(first.mapping)
    assert (_sparse_cycles(b7, balanced[0]), _sparse_cycles(b7, first)) == (6304, 8672)


def test_the_chosen_tie_minimises_the_documented_key_and_is_the_most_balanced(b7):
    layer_dir, arch, energy, problem, settings, files, *_ = b7
    constraints = layer_constraints(files, arch, problem)
    key = tie_break_key("weight-balance", problem)
    assert key is not None
    search = Search(arch, energy, problem, Mapspace(arch, problem, constraints), settings, tie_break=key)
    chosen = search.run()
    ties = [search.stats[k] for k, value in search.cache.items() if value is not None and _tied(value, search.best)]
    assert len(ties) >= 10  # a real choice
    assert key(chosen) == min(key(s) for s in ties)
    # with the real pruned weights, no tie has fewer sparse cycles than the chosen one
    assert _sparse_cycles(b7, chosen) == min(_sparse_cycles(b7, s) for s in ties)


def test_the_pass_structure_is_the_imbalance_analysis_one(b7):
    """At density 1 every PE does all its work: the expectation is the dense cycles of sparsity.imbalance."""
    layer_dir, arch, energy, problem, settings, files, layer, params, weights = b7
    stats = map_layer(arch, energy, problem, files, settings)
    level = pe_level(stats)
    (tensor,) = split_problems(layer, problem_tensor(layer, weights), {d: stats.mapping.factors(d) for d in "RSCM"})
    analysed = analyse(stats.mapping, tensor, level)
    weight_dims = frozenset({"M", "R", "S"})  # Depthwise-Layer: the weights are W[M, R, S]
    passes, pes, per_pass, repeats = pass_structure(stats.mapping, weight_dims, level)
    assert passes * pes * per_pass == problem.bound("M") * 9  # every weight once
    assert expected_sparse_cycles(stats.mapping, weight_dims, level, density=1.0) == analysed.dense_cycles
    assert analysed.pes % pes == 0 and analysed.passes % passes == 0


def test_expected_max_of_binomials_by_enumeration():
    d = 0.25
    pmf = [comb(3, x) * d**x * (1 - d) ** (3 - x) for x in range(4)]
    brute = sum(max(a, b) * pmf[a] * pmf[b] for a, b in product(range(4), repeat=2))
    assert expected_max_binomial(2, 3, d) == pytest.approx(brute, rel=1e-12)
    assert expected_max_binomial(1, 40, d) == pytest.approx(40 * d, rel=1e-12)
    assert expected_max_binomial(64, 1, d) == pytest.approx(1 - (1 - d) ** 64, rel=1e-12)
    assert expected_max_binomial(8, 5000, d) > 5000 * d  # large k stays finite (log-space probabilities)


def test_the_tie_break_is_in_the_key_of_the_runs_the_sparse_accelerator_recosts():
    config = wfconfig.validate({"sweep": [{"network": "mobilenet", "dataset": "cifar10"}]}, "test.yaml")
    dense = plan.runs(config, "mobilenet", "cifar10", "dense")
    archon = plan.runs(config, "mobilenet", "cifar10", "archon")
    assert all(yaml.safe_load(r.spec.mapper)["mapper"]["tie-break"] == "weight-balance" for r in dense)
    assert all("tie-break" not in yaml.safe_load(r.spec.mapper)["mapper"] for r in archon)
    assert {r.key for r in plan.runs(config, "mobilenet", "cifar10", "sparse")} == {r.key for r in dense}
    run = dense[0]
    section = yaml.safe_load(run.spec.mapper)["mapper"]
    first = yaml.safe_dump({"mapper": {k: v for k, v in section.items() if k != "tie-break"}}, sort_keys=False)
    assert replace(run.spec, mapper=first).key(plan.ROOT) != run.key


def test_tie_break_errors_and_timeloop_never_sees_the_key():
    with pytest.raises(
        SpecError,
        match=r"^m.yaml: field mapper.tie-break: 'best' is not one of first, "
        r"weight-balance$",
    ):
        parse_mapper_section({"tie-break": "best"}, "m.yaml")
    document = mapper_document(1000, 100, tie_break="weight-balance")
    assert document["mapper"]["tie-break"] == "weight-balance"
    assert "tie-break" not in mapper_document(1000, 100)["mapper"]  # default: the text of earlier runs
    assert "tie-break" not in with_overrides(document, threads=2)["mapper"]
