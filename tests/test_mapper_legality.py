"""The mapping legality check (`engines.embedded.legality`): Timeloop's split semantics by brute force, every
recorded Timeloop mapping passes it (corpus and fixtures), broken mappings are caught, and the mapper's results pass
it on a 2-D array."""

import itertools
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from conftest import run_names
from test_mapper import KEEP_ALL, TINY_ERT, _write, tiny  # noqa: F401  (fixture)

from engines import get_engine
from engines.embedded import load_arch_and_energy, load_problem_cached
from engines.embedded.artifact import RecordedRun
from engines.embedded.constraints import LevelConstraint
from engines.embedded.legality import mapping_violations, spatial_axes_allowed
from engines.embedded.mapspace import Mapspace, layer_constraints
from engines.mapping import Loop, Mapping
from engines.parsers import parse_map

DIMS = ("A", "B", "C", "D", "E")


def _timeloop_reachable(
    prefix: tuple[str, ...], split: int | None, active: set[str]
) -> set[tuple[frozenset, frozenset]]:
    """(X, Y) sets of the non-unit `active` dims that Timeloop's uber mapspace can build: loop order = the
    permutation prefix then any order of the rest; the first `split` loops (every split point if None) go to X."""
    others = [d for d in DIMS if d not in prefix]
    out = set()
    for perm in itertools.permutations(others):
        order = list(prefix) + list(perm)
        for s in [split] if split is not None else range(len(DIMS) + 1):
            out.add((frozenset(order[:s]) & active, frozenset(order[s:]) & active))
    return out


@pytest.mark.parametrize(
    "prefix, split",
    [
        ((), None),
        (("B", "A"), None),
        (("B", "A", "C"), 1),
        (("A",), 3),
        (("C", "A", "E", "B", "D"), None),
        (("C", "A", "E", "B", "D"), 2),
        ((), 2),
        (("D", "B"), 0),
        (("D", "B"), 5),
    ],
)
def test_spatial_axes_match_timeloop_permutation_and_split(prefix, split):
    constraint = LevelConstraint(permutation=prefix, split=split)
    for n_active in range(len(DIMS) + 1):
        for active in itertools.combinations(DIMS, n_active):
            reachable = _timeloop_reachable(prefix, split, set(active))
            for sides in itertools.product("XY", repeat=n_active):
                x = frozenset(d for d, side in zip(active, sides, strict=True) if side == "X")
                y = frozenset(active) - x
                assert spatial_axes_allowed(constraint, DIMS, set(x), set(y)) == ((x, y) in reachable), (active, x)


def _recorded_runs(reference_dir: Path) -> list[RecordedRun]:
    root = reference_dir / "timeloop-runs" / "mobilenet-cifar10"
    return [RecordedRun(root, root / name) for name in run_names()]


def _load(run, reference_dir):
    arch, _ = load_arch_and_energy(run.arch(reference_dir / "accelerators"))
    problem = load_problem_cached(run.problem)
    constraints = layer_constraints(run.constraints, arch, problem)
    return arch, problem, constraints


def test_every_recorded_timeloop_mapping_satisfies_its_constraints(reference_dir):
    runs = _recorded_runs(reference_dir)
    assert len(runs) == 109
    for run in runs:
        arch, problem, constraints = _load(run, reference_dir)
        assert mapping_violations(parse_map(run.path / "map.txt"), constraints, arch, problem) == [], run.name


def _edit(mapping: Mapping, level: str, **changes) -> Mapping:
    return Mapping(tuple(replace(lvl, **changes) if lvl.level == level else lvl for lvl in mapping.levels))


def test_broken_mappings_are_caught(reference_dir):
    run = next(r for r in _recorded_runs(reference_dir) if r.name == "baseline/b2/comp")
    arch, problem, constraints = _load(run, reference_dir)
    good = parse_map(run.path / "map.txt")
    assert mapping_violations(good, constraints, arch, problem) == []

    def violations(mapping):
        return " | ".join(mapping_violations(mapping, constraints, arch, problem))

    glb, dram = good.level("shared_glb"), good.level("DRAM")
    # keep flags: the GLB may not hold Weights; the outermost level must keep everything
    assert "shared_glb: Weights is kept, the constraints say bypass" in violations(
        _edit(good, "shared_glb", keep=glb.keep + ("Weights",))
    )
    assert "DRAM: the outermost level must keep Outputs" in violations(
        _edit(good, "DRAM", keep=tuple(t for t in dram.keep if t != "Outputs"))
    )
    # a spatial Q loop moved from X to Y at the GLB (split 7: all of its loops go to X; its Y fan-out is 1)
    moved = tuple(replace(loop, spatial="Y") if loop.spatial == "X" and loop.dim == "Q" else loop for loop in glb.loops)
    assert "shared_glb: spatial Y factors multiply to" in violations(_edit(good, "shared_glb", loops=moved))
    # the DRAM permutation RSP CMNQ (innermost first): a C loop must be inside the Q loop
    assert [loop.dim for loop in dram.loops] == ["Q"]
    c_inside = violations(_edit(good, "DRAM", loops=dram.loops + (Loop("C", 2),)))
    c_outside = violations(_edit(good, "DRAM", loops=(Loop("C", 2),) + dram.loops))
    assert "DRAM: temporal loops" not in c_inside and "loops over C multiply to" in c_inside
    assert (
        "DRAM: temporal loops ['Q', 'C'] (innermost first) do not start with the permutation prefix ['C', 'Q']"
        in c_outside
    )
    # a fixed factor changed (psum_spad: P=1) and the product over P broken
    psum = good.level("psum_spad")
    extra = _edit(good, "psum_spad", loops=psum.loops + (Loop("P", 2),))
    text = violations(extra)
    assert "psum_spad temporal: P=2, the constraints fix P=1" in text and "loops over P multiply to" in text


ARCH_2D = """
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
        attributes: {memory_depth: 256, memory_width: 16, block-size: 1, word-bits: 16, n_banks: 1}
      subtree:
      - name: PE[0..3]
        local:
        - name: spad
          class: smartbuffer_RF
          attributes: {memory_depth: 16, memory_width: 16, block-size: 1, word-bits: 16, meshX: 2}
        - name: mac
          class: intmac
          attributes: {datawidth: 16, meshX: 2}
"""


@pytest.mark.parametrize(
    "spatial",
    [
        "{target: glb, type: spatial, permutation: MC}",
        "{target: glb, type: spatial, permutation: CMP, split: 1}",
        "{target: glb, type: spatial, permutation: P, split: 0}",
    ],
)
def test_mapper_respects_splits_on_a_2d_array(tiny, spatial):  # noqa: F811
    _, prob, tmp = tiny
    arch = tmp / "arch2d"
    arch.mkdir()
    (arch / "arch.yaml").write_text(ARCH_2D)
    (arch / "ERT.yaml").write_text(TINY_ERT)
    cons = _write(tmp, "c.yaml", KEEP_ALL + "- " + spatial + "\n")
    a, _ = load_arch_and_energy(arch)
    p = load_problem_cached(prob)
    parsed = layer_constraints([cons], a, p)
    ms = Mapspace(a, p, parsed)
    assert ms.spatial_slots[0].fanout == {"X": 2, "Y": 2}
    choices = ms.spatial_choices()
    # every spatial choice is legal, and every legal X/Y assignment of the fan-out is a choice
    brute = set()
    for c, m, pp in itertools.product((1, 2, 4), (1, 2), (1, 2)):
        for sides in itertools.product("XY", repeat=3):
            loops = [(d, f, s) for d, f, s in zip("CMP", (c, m, pp), sides, strict=True) if f > 1]
            x = {d for d, _, s in loops if s == "X"}
            y = {d for d, _, s in loops if s == "Y"}
            fx = 1
            fy = 1
            for _dim, f, s in loops:
                fx, fy = (fx * f, fy) if s == "X" else (fx, fy * f)
            if fx <= 2 and fy <= 2 and spatial_axes_allowed(parsed.spatial["glb"], ms.dims, x, y):
                brute.add(frozenset((d, f, s) for d, f, s in loops))
    ours = {frozenset((d, f, axis) for (_, axis), dims in ch.factors for d, f in dims) for ch in choices}
    assert ours == brute
    mapper = _write(tmp, "m.yaml", yaml.safe_dump({"mapper": {"victory-condition": 100, "timeout": 1000}}))
    stats = get_engine("embedded").evaluate(arch, prob, [cons], mapper)
    assert mapping_violations(stats.mapping, parsed, a, p) == []
