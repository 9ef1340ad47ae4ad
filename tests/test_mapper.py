"""The embedded mapper: constraint semantics, mapspace enumeration, optimality on tiny problems, errors."""

import itertools
from math import prod

import numpy as np
import pytest
import yaml

from engines import EngineError, get_engine
from engines.embedded import load_arch_and_energy, load_problem_cached
from engines.embedded.constraints import load_constraints, parse_factors
from engines.embedded.mapper import read_mapper_settings
from engines.embedded.mapspace import Mapspace, ordered_factorizations
from engines.embedded.model import evaluate_mapping
from specs.errors import SpecError
from workloads import Layer
from workloads.problem import problems_for, render_problem

TINY_ARCH = """
architecture:
  version: 0.3
  subtree:
  - name: system
    local:
    - {name: DRAM, class: DRAM, attributes: {type: LPDDR4, width: 64, block-size: 4, word-bits: 16}}
    subtree:
    - name: chip
      attributes: {technology: 45nm}
      local:
      - name: glb
        class: smartbuffer_SRAM
        attributes: {memory_depth: 64, memory_width: 16, block-size: 1, word-bits: 16, n_banks: 1}
      subtree:
      - name: PE[0..3]
        local:
        - name: spad
          class: smartbuffer_RF
          attributes: {memory_depth: 12, memory_width: 16, block-size: 1, word-bits: 16, meshX: 4}
        - name: mac
          class: intmac
          attributes: {datawidth: 16, meshX: 4}
"""
TINY_ERT = """
ERT:
  version: 0.3
  tables:
  - {name: system.DRAM, actions: [{name: read, energy: 100.0}, {name: write, energy: 100.0}]}
  - {name: system.chip.glb, actions: [{name: read, energy: 6.0}, {name: write, energy: 6.0}]}
  - {name: "system.chip.PE[0..3].spad", actions: [{name: read, energy: 1.0}, {name: write, energy: 1.0}]}
  - {name: "system.chip.PE[0..3].mac", actions: [{name: mac_random, energy: 2.0}]}
"""
KEEP_ALL = """
targets:
- {target: spad, type: bypass, keep: [Weights, Inputs, Outputs]}
- {target: glb, type: bypass, keep: [Weights, Inputs, Outputs]}
"""


@pytest.fixture
def tiny(tmp_path):
    arch = tmp_path / "arch"
    arch.mkdir()
    (arch / "arch.yaml").write_text(TINY_ARCH)
    (arch / "ERT.yaml").write_text(TINY_ERT)
    layer = Layer("x", "pointwise", 1, 1, 2, 1, 4, 2)  # C=4, M=2, P=2, Q=1
    (problem,) = problems_for(layer)
    prob = tmp_path / "prob.yaml"
    prob.write_text(render_problem(problem))
    return arch, prob, tmp_path


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def _mapspace(arch, prob, files):
    a, _ = load_arch_and_energy(arch)
    p = load_problem_cached(prob)
    cons = load_constraints(
        files,
        dict(zip(p.dims, p.bounds, strict=True)),
        [s.name for s in a.storage],
        p.tensor_names,
        Mapspace.spatial_level_names(a),
    )
    return Mapspace(a, p, cons)


# ---- constraint semantics --------------------------------------------------------------------------------
def test_factor_strings_follow_timeloop():
    bounds = {"C": 16, "M": 96, "R": 3, "S": 3, "P": 32}
    assert parse_factors("C=16 M=0 P<=4 R=3S=3", bounds, "x") == ({"C": 16, "M": 96, "R": 3, "S": 3}, {"P": 4})
    assert parse_factors("M=500", bounds, "x") == ({"M": 96}, {})  # clamped to the dimension
    with pytest.raises(EngineError, match="dimension 'K'"):
        parse_factors("K=2", bounds, "x")


def test_constraints_merge_and_reject_respecification(tiny):
    arch, prob, tmp = tiny
    a = _write(
        tmp, "a.yaml", "architecture_constraints:\n  targets:\n  - {target: glb, type: temporal, factors: C=2}\n"
    )
    b = _write(tmp, "b.yaml", "mapspace_constraints:\n  targets:\n  - {target: glb, type: temporal, permutation: MC}\n")
    ms = _mapspace(arch, prob, [a, b])
    assert ms.temporal[1].factors == {"C": 2} and ms.temporal[1].permutation == ("M", "C")
    c = _write(tmp, "c.yaml", "targets:\n  - {target: glb, type: temporal, factors: C=4}\n")
    with pytest.raises(EngineError, match="factor for C specified twice at glb temporal"):
        _mapspace(arch, prob, [a, c])
    d = _write(tmp, "d.yaml", "targets:\n  - {target: nowhere, type: temporal, factors: C=4}\n")
    with pytest.raises(EngineError, match=r"d.yaml: nowhere temporal: target storage level 'nowhere'"):
        _mapspace(arch, prob, [d])
    e = _write(tmp, "e.yaml", "targets:\n  - {target: spad, type: spatial, factors: C=2}\n")
    with pytest.raises(EngineError, match="level 'spad' has no spatial fan-out"):
        _mapspace(arch, prob, [e])
    f = _write(tmp, "f.yaml", "targets:\n  - {target: glb, type: bypass, keep: [Weights], bypass: [Weights]}\n")
    with pytest.raises(SpecError, match="tensor Weights kept/bypassed twice"):
        _mapspace(arch, prob, [f])


def test_orders_respect_the_permutation_prefix(tiny):
    arch, prob, tmp = tiny
    cons = _write(tmp, "c.yaml", "targets:\n  - {target: DRAM, type: temporal, permutation: P}\n")
    ms = _mapspace(arch, prob, [cons])
    dram = len(ms.levels) - 1
    factors = [1] * len(ms.dims)
    for name, f in (("C", 2), ("M", 2), ("P", 2)):
        factors[ms.dims.index(name)] = f
    assert sorted(ms.orders(dram, factors)) == [("P", "C", "M"), ("P", "M", "C")]


def test_timeloop_constraint_layouts_are_all_read(tiny):
    arch, prob, tmp = tiny
    layouts = {  # section aliases timeloop-mapper reads, a bare list, and targets with nested `constraints` lists
        "aliases.yaml": "arch_constraints:\n  targets:\n  - {target: glb, type: temporal, factors: C=2}\n"
        "mapspace:\n  constraints:\n  - {target: glb, type: temporal, permutation: MC}\n",
        "list.yaml": "- {target: glb, type: temporal, factors: C=2, permutation: MC}\n",
        "nested.yaml": "mapspace_constraints:\n  targets:\n  - target: glb\n    constraints:\n"
        "    - {type: temporal, factors: C=2}\n    - {type: temporal, permutation: MC}\n",
    }
    for name, text in layouts.items():
        ms = _mapspace(arch, prob, [_write(tmp, name, text)])
        assert (ms.temporal[1].factors, ms.temporal[1].permutation) == ({"C": 2}, ("M", "C")), name
    twice = r"nested.yaml: mapspace_constraints\[0\] \(glb temporal\): factor C= specified twice"
    nested = layouts["nested.yaml"].replace("permutation: MC", "factors: C=1")
    with pytest.raises(SpecError, match=twice):
        _mapspace(arch, prob, [_write(tmp, "nested.yaml", nested)])


def test_minimum_utilization_prunes_spatial_choices(tiny):
    arch, prob, tmp = tiny
    free = _mapspace(arch, prob, [_write(tmp, "k.yaml", KEEP_ALL)])
    half = _mapspace(arch, prob, [_write(tmp, "u.yaml", KEEP_ALL + "- {target: spad, type: utilization, min: 0.5}\n")])
    assert {s.parallelism for s in free.spatial_choices()} == {1, 2, 4}
    assert {s.parallelism for s in half.spatial_choices()} == {2, 4}  # 2 of 4 PEs is utilization 0.5


# ---- mapspace against brute force ------------------------------------------------------------------------
def test_ordered_factorizations_match_brute_force():
    for n, parts in ((12, 3), (16, 2), (7, 3), (1, 4)):
        brute = [c for c in itertools.product(range(1, n + 1), repeat=parts) if prod(c) == n]
        assert sorted(ordered_factorizations(n, parts, [None] * parts)) == sorted(brute)
    assert ordered_factorizations(12, 2, [3, None]) == [(1, 12), (2, 6), (3, 4)]


def test_spatial_choices_match_brute_force(tiny):
    arch, prob, tmp = tiny
    ms = _mapspace(arch, prob, [_write(tmp, "k.yaml", KEEP_ALL)])
    bounds = ms.bounds
    brute = set()
    for combo in itertools.product(*[[d for d in range(1, bounds[x] + 1) if bounds[x] % d == 0] for x in ms.dims]):
        if prod(combo) <= 4:
            brute.add(tuple((d, f) for d, f in zip(ms.dims, combo, strict=True) if f > 1))
    ours = {dict(s.factors).get((1, "X"), ()) for s in ms.spatial_choices()}
    assert ours == brute
    parallelism = [s.parallelism for s in ms.spatial_choices()]
    assert parallelism == sorted(parallelism, reverse=True)


def _exhaustive_best(ms, arch, prob, score=lambda stats: (stats.cycles, stats.total_energy_pJ)):
    a, energy = load_arch_and_energy(arch)
    p = load_problem_cached(prob)
    best = None
    for spatial in ms.spatial_choices():
        factors_all = ms.temporal_factors(spatial)
        if factors_all is None:
            continue
        for factors in factors_all:
            per_level = [ms.orders(level, factors[level]) for level in range(len(ms.levels))]
            for orders in itertools.product(*per_level):
                for keep in ms.keep_options():
                    try:
                        stats = evaluate_mapping(a, energy, p, ms.mapping(spatial, factors, orders, keep))
                    except EngineError:
                        continue
                    value = score(stats)
                    best = value if best is None or value < best else best
    return best


@pytest.mark.parametrize("metrics", [["delay", "energy"], None])
def test_mapper_finds_the_optimum_of_a_tiny_mapspace(tiny, metrics):
    arch, prob, tmp = tiny
    cons = _write(tmp, "k.yaml", KEEP_ALL)
    settings = {"victory-condition": 200, "timeout": 1000}
    if metrics:
        settings["optimization-metrics"] = metrics
        score = lambda s: (s.cycles, s.total_energy_pJ)  # noqa: E731
    else:  # Timeloop's default objective: energy-delay product
        score = lambda s: (s.cycles * s.total_energy_pJ,)  # noqa: E731
    best = _exhaustive_best(_mapspace(arch, prob, [cons]), arch, prob, score)
    mapper = _write(tmp, "mapper.yaml", yaml.safe_dump({"mapper": settings}))
    stats = get_engine("embedded").evaluate(arch, prob, [cons], mapper, outdir=tmp / "out")
    assert score(stats) == pytest.approx(best)
    assert stats.cycles == 4  # 16 MACs on 4 PEs
    assert (tmp / "out" / "stats.json").is_file() and (tmp / "out" / "map.txt").read_text().startswith("DRAM [")


def test_mapper_settings_follow_timeloop(tmp_path):
    defaults = read_mapper_settings(_write(tmp_path, "m.yaml", "mapper: {num-threads: 8, algorithm: linear-pruned}\n"))
    assert (defaults.metrics, defaults.victory_condition, defaults.timeout) == (("edp",), 500, 1000)
    assert read_mapper_settings(None).metrics == ("edp",)
    single = read_mapper_settings(
        _write(
            tmp_path, "s.yaml", "mapper: {optimization-metric: delay, optimization-metrics: [energy], heartbeat: 7}\n"
        )
    )
    assert (single.metrics, single.timeout) == (("delay",), 7)
    with pytest.raises(SpecError, match=r"b.yaml: field mapper.optimization-metrics: expected a non-empty list"):
        read_mapper_settings(_write(tmp_path, "b.yaml", "mapper: {optimization-metrics: delay}\n"))


def test_mapper_is_deterministic_per_seed(tiny):
    arch, prob, tmp = tiny
    cons = _write(tmp, "k.yaml", KEEP_ALL)
    runs = [get_engine("embedded", seed=3).evaluate(arch, prob, [cons], None) for _ in range(2)]
    assert str(runs[0].mapping) == str(runs[1].mapping)


# ---- errors --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, message",
    [
        (
            "- {target: spad, type: temporal, factors: C=3}",
            r"fix factors of dimension C \(spad temporal C=3\) whose product 3 does not divide the problem's C=4",
        ),
        (
            "- {target: glb, type: spatial, factors: C=4 M=2}",
            r"level 'glb': spatial factors \(C=4 M=2\) exceed its fan-out \(X=4, Y=1\)",
        ),
        (
            "- {target: spad, type: temporal, factors: C=4 M=2 P=2}",
            r"no valid mapping found: level 'spad' needs at least 20 words "
            r"in the sampled mappings \(Weights 8 \+ Inputs 8 \+ Outputs 4\), capacity 12",
        ),
        (
            "- {target: glb, type: spatial, factors: C=1 M=1 P=1}\n- {target: spad, type: utilization, min: 0.5}",
            r"no spatial assignment fits the fan-outs, divides the problem dimensions "
            r"and reaches the minimum utilization 0.5",
        ),
        (
            "- {target: glb, type: utilization, min: 0.5}",
            r"minimum utilization must target the innermost storage level 'spad'",
        ),
    ],
)
def test_impossible_constraints_name_the_level(tiny, text, message):
    arch, prob, tmp = tiny
    cons = _write(tmp, "c.yaml", KEEP_ALL + text + "\n")
    with pytest.raises(EngineError, match=message):
        get_engine("embedded").evaluate(arch, prob, [cons], None)


def test_bad_mapper_settings(tiny):
    arch, prob, tmp = tiny
    cons = _write(tmp, "k.yaml", KEEP_ALL)
    bad = _write(tmp, "m.yaml", "mapper: {victory-condition: many}\n")
    with pytest.raises(SpecError, match="m.yaml: field mapper"):
        get_engine("embedded").evaluate(arch, prob, [cons], bad)
    metric = _write(tmp, "m2.yaml", "mapper: {optimization-metrics: [speed]}\n")
    unknown = r"m2.yaml: field mapper.optimization-metrics: unknown optimization metric\(s\) \['speed'\]"
    with pytest.raises(SpecError, match=unknown):
        get_engine("embedded").evaluate(arch, prob, [cons], metric)


def test_single_candidate_capacity_check_matches_the_batched_one(tiny):
    from engines.embedded.capacity import CapacityModel

    arch, prob, _ = tiny
    a, _ = load_arch_and_energy(arch)
    p = load_problem_cached(prob)
    model = CapacityModel(a, p)
    rng = np.random.default_rng(0)
    temporal = rng.choice([1, 2, 4], size=(200, len(a.storage), len(p.dims)))
    spatial = np.ones((len(a.storage), len(p.dims)), dtype=np.int64)
    spatial[1, 0] = 2
    keep = np.ones((len(a.storage), len(p.tensor_names)), dtype=np.int64)
    batched = model.fits(temporal, spatial, keep)
    assert 0 < batched.sum() < len(batched)  # both outcomes are exercised
    assert [model.fits_one(t, spatial, keep) for t in temporal] == batched.tolist()
