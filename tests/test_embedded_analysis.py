"""The fast closed-form analysis equals the exact step-by-step replay on random mappings.

Random mappings spread the prime factors of every dimension over the temporal and
spatial (X/Y) slots of the reference baseline and ARCHON-main architectures (from the fixtures), in
random loop orders and with random bypass, on CNN layers with strides, dilations,
sliding windows and on a depthwise shape with coupled channels.
"""

from __future__ import annotations

import random
from math import prod

import fixtures
import pytest
import yaml

from engines.embedded.analysis import fast_analysis
from engines.embedded.group import _prime_factors
from engines.embedded.nest import build_nest
from engines.embedded.problem import Problem, parse_problem
from engines.embedded.reference import reference_analysis
from engines.mapping import LevelMapping, Loop, Mapping
from specs.arch import ArchSpec

SEED = 20240601
N_MAPPINGS = 60
TEMPLATE = "baseline/b1/decom"  # the recorded run whose problem the CNN layers vary

DEPTHWISE_SHAPE = {
    "name": "depthwise",
    "dimensions": ["C", "R", "S", "N", "P", "Q"],
    "data-spaces": [
        {"name": "Weights", "projection": [[["C"]], [["R"]], [["S"]]]},
        {"name": "Inputs", "projection": [[["N"]], [["C"]], [["R"], ["P", "Wstride"]], [["S"], ["Q", "Hstride"]]]},
        {"name": "Outputs", "projection": [[["N"]], [["C"]], [["Q"]], [["P"]]], "read-write": True},
    ],
    "coefficients": [{"name": "Wstride", "default": 1}, {"name": "Hstride", "default": 1}],
}


def cnn(**instance) -> Problem:
    """The reference CNN-layer problem with other bounds / strides / dilations."""
    data = yaml.safe_load(fixtures.problem_yaml(TEMPLATE))
    data["problem"]["instance"].update(instance)
    return parse_problem(data)


def problems() -> list[Problem]:
    return [
        cnn(C=16, M=24, R=1, S=1, P=8, Q=8),
        cnn(C=1, M=24, R=3, S=3, P=8, Q=8),
        cnn(C=4, M=6, R=3, S=3, P=8, Q=4, Wstride=2, Hstride=2),
        cnn(C=3, M=4, R=5, S=3, P=6, Q=6, Wdilation=2, Hdilation=1),
        cnn(C=2, M=3, R=2, S=3, P=9, Q=4, Wstride=3),
        parse_problem(
            {
                "problem": {
                    "shape": DEPTHWISE_SHAPE,
                    "instance": {"C": 12, "R": 3, "S": 3, "N": 1, "P": 8, "Q": 6, "Hstride": 2},
                }
            }
        ),
    ]


def random_mapping(arch: ArchSpec, prob: Problem, rng: random.Random) -> Mapping:
    levels = arch.storage
    slots: list[tuple[int, str | None]] = [(i, None) for i in range(len(levels))]
    limits = {}
    for i in range(1, len(levels)):
        for axis, lim in (
            ("X", levels[i - 1].mesh_x // levels[i].mesh_x),
            ("Y", levels[i - 1].mesh_y // levels[i].mesh_y),
        ):
            if lim > 1:
                slots.append((i, axis))
                limits[(i, axis)] = lim
    loops: dict[tuple[int, str | None], list[Loop]] = {s: [] for s in slots}
    for dim, bound in zip(prob.dims, prob.bounds, strict=True):
        for p in _prime_factors(bound):
            slot = rng.choice(slots)
            loops[slot].append(Loop(dim, p, slot[1]))
    for slot, lim in limits.items():  # spill spatial factors that do not fit the mesh
        while prod(x.bound for x in loops[slot]) > lim:
            x = loops[slot].pop(rng.randrange(len(loops[slot])))
            loops[(slot[0], None)].append(Loop(x.dim, x.bound))
    out = []
    for i in range(len(levels) - 1, -1, -1):
        temporal = loops[(i, None)]
        rng.shuffle(temporal)
        spatial = loops.get((i, "Y"), []) + loops.get((i, "X"), [])
        keep = prob.tensor_names if i == len(levels) - 1 else tuple(t for t in prob.tensor_names if rng.random() < 0.6)
        out.append(LevelMapping(levels[i].name, tuple(temporal) + tuple(spatial), keep))
    return Mapping(tuple(out))


def _cases():
    rng = random.Random(SEED)
    arches = [fixtures.arch_spec("baseline"), fixtures.arch_spec("fusion/main")]
    probs = problems()
    for n in range(N_MAPPINGS):
        arch, prob = rng.choice(arches), rng.choice(probs)
        yield pytest.param(arch, prob, random_mapping(arch, prob, rng), id=f"{n}-{prob.name}-{len(arch.storage)}lv")


@pytest.mark.parametrize("arch,prob,mapping", list(_cases()))
def test_fast_equals_reference(arch, prob, mapping):
    nest = build_nest(arch, prob, mapping)
    ref, fast = reference_analysis(prob, nest), fast_analysis(prob, nest)
    assert (fast.compute_cycles, fast.mac_instances) == (ref.compute_cycles, ref.mac_instances)
    for level, (ref_tiles, fast_tiles) in enumerate(zip(ref.tiles, fast.tiles, strict=True)):
        for tensor, r, f in zip(prob.tensor_names, ref_tiles, fast_tiles, strict=True):
            got = (f.size, f.partition_size, f.content_accesses, f.fills, f.instances)
            want = (r.size, r.partition_size, r.content_accesses, r.fills, r.instances)
            assert got == want, f"{arch.storage[level].name}.{tensor}: fast {got} != reference {want}\n{mapping}"
