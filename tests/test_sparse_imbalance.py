"""Sparse cycles: hand-computed loop nests, a per-MAC brute force on random small mappings, and the recorded
MobileNetV2 baseline runs (dense cycles = Timeloop's, all-non-zero weights = dense, pruned weights between the
balanced bound and dense)."""

from __future__ import annotations

import itertools
import zlib
from math import ceil, prod

import numpy as np
import pytest
from conftest import run_names
from fixtures import read_run

from engines.mapping import LevelMapping, Loop, Mapping
from sparsity.imbalance import ImbalanceError, analyse, derive_pe_level, pe_pass_counts

LEVELS = ("DRAM", "glb", "spad")


def nest(*levels: tuple[str, list[Loop]]) -> Mapping:
    return Mapping(tuple(LevelMapping(name, tuple(loops)) for name, loops in levels))


def weights_rscm(shape: tuple[int, int, int, int], nonzero: list[tuple[int, int, int, int]]) -> np.ndarray:
    w = np.zeros(shape)
    for index in nonzero:
        w[index] = 1.5
    return w


# ----------------------------------------------------------------------------------------- hand-computed


def two_by_two() -> tuple[Mapping, np.ndarray]:
    """C=2, M=4. Pass t = outer M digit (m = 2t + mi), PE x = c, inner loop over the low M digit.
    Non-zero weights: c=0 -> m 0, 1; c=1 -> m 0, 3.
        PE0: pass0 {m0, m1} = 2, pass1 {m2, m3} = 0;  PE1: pass0 {m0} = 1, pass1 {m3} = 1
        cycles = max(2, 1) + max(0, 1) = 3; sparse MACs = 4; balanced ceil(4/2) = 2; dense 2 x 2 = 4."""
    mapping = nest(("DRAM", [Loop("M", 2)]), ("glb", [Loop("C", 2, "X")]), ("spad", [Loop("M", 2)]))
    return mapping, weights_rscm((1, 1, 2, 4), [(0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 0), (0, 0, 1, 3)])


def test_two_pes_two_passes_by_hand():
    mapping, w = two_by_two()
    result = analyse(mapping, w, "spad")
    assert (result.pes, result.passes, result.macs_per_pass) == (2, 2, 2)
    assert (result.dense_macs, result.dense_cycles) == (8, 4)
    assert (result.sparse_macs, result.cycles, result.balanced_cycles) == (4, 3, 2)
    assert pe_pass_counts(mapping, w, "spad").tolist() == [[2, 0], [1, 1]]


def test_non_weight_loops_repeat_passes_duplicate_pes_and_multiply_work():
    """The 2x2 case plus P=3 inside the pass (x3 per count), Q=2 as outer passes (same work twice) and
    N=2 as a spatial Y loop (two more PEs with identical work)."""
    mapping = nest(
        ("DRAM", [Loop("M", 2), Loop("Q", 2)]),
        ("glb", [Loop("C", 2, "X"), Loop("N", 2, "Y")]),
        ("spad", [Loop("P", 3), Loop("M", 2)]),
    )
    _, w = two_by_two()
    result = analyse(mapping, w, "spad")
    assert (result.pes, result.passes, result.macs_per_pass) == (4, 4, 6)
    assert result.cycles == 3 * 2 * 3  # (2 + 1) per Q pass-pair, x2 Q passes, x3 P
    assert result.sparse_macs == 4 * 3 * 2 * 2
    assert result.balanced_cycles == ceil(48 / 4)
    counts = pe_pass_counts(mapping, w, "spad")
    # PE = x * 2 + y (y = N); pass = m_outer * 2 + q
    assert counts.tolist() == [[6, 6, 0, 0], [6, 6, 0, 0], [3, 3, 3, 3], [3, 3, 3, 3]]
    assert counts.max(axis=0).sum() == result.cycles and counts.sum() == result.sparse_macs


def test_dimension_split_over_three_levels_and_a_kernel():
    """C = 8 split C2 (temporal, outer) x C2 (spatial X) x C2 (inner): c = 4 co + 2 cx + ci. R = S = 2 with S
    across Y and R inside. One non-zero weight per (r, s, c) listed; M = 1."""
    mapping = nest(
        ("DRAM", [Loop("C", 2)]),
        ("glb", [Loop("C", 2, "X"), Loop("S", 2, "Y")]),
        ("spad", [Loop("R", 2), Loop("C", 2)]),
    )
    nonzero = [(0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 2, 0), (1, 1, 3, 0), (0, 1, 3, 0), (0, 0, 6, 0)]
    w = weights_rscm((2, 2, 8, 1), nonzero)
    counts = pe_pass_counts(mapping, w, "spad")
    # PE (cx, s) -> index cx*2 + s; pass co. c=0,1 -> PE 0 pass 0; the three c=2,3 weights have s=1 -> PE 3
    # pass 0; c=6 (co 1, cx 1, s 0) -> PE 2 pass 1. cycles = max(2, 0, 0, 3) + max(0, 0, 1, 0) = 4.
    expected = np.zeros((4, 2), dtype=int)
    for _r, s, c, _ in nonzero:
        expected[(c // 2 % 2) * 2 + s, c // 4] += 1
    assert counts.tolist() == expected.tolist() == [[2, 0], [0, 0], [0, 1], [3, 0]]
    result = analyse(mapping, w, "spad")
    assert (result.cycles, result.sparse_macs, result.pes, result.passes) == (4, 6, 4, 2)


def test_depthwise_coupled_form_has_no_c_loops():
    """A channel-coupled depthwise nest (M, R, S only) over W[R, S, 1, M]: M spatial, R temporal, S inside."""
    mapping = nest(("DRAM", [Loop("R", 3)]), ("glb", [Loop("M", 4, "X")]), ("spad", [Loop("S", 3), Loop("P", 5)]))
    w = np.zeros((3, 3, 1, 4))
    w[2, :, 0, 1] = 1.0  # channel 1, kernel column r=2: three weights, all in the last pass on PE 1
    result = analyse(mapping, w, "spad")
    assert (result.cycles, result.sparse_macs, result.dense_cycles) == (3 * 5, 3 * 5, 3 * 3 * 5)
    assert pe_pass_counts(mapping, w, "spad")[1].tolist() == [0, 0, 15]


# ----------------------------------------------------------------------------------------- brute force


def brute_force(mapping: Mapping, w: np.ndarray, pe_level: str) -> np.ndarray:
    """Per-MAC reference: walk every loop iteration, rebuild each index, count non-zero weights per (PE, pass)."""
    names = [lvl.level for lvl in mapping.levels]
    loops = [(i < names.index(pe_level), loop) for i, lvl in enumerate(mapping.levels) for loop in lvl.loops]
    xs = [loop.bound for outer, loop in loops if outer and loop.spatial == "X"]
    ys = [loop.bound for outer, loop in loops if outer and loop.spatial == "Y"]
    ts = [loop.bound for outer, loop in loops if outer and not loop.spatial]
    counts = np.zeros((prod(xs) * prod(ys), prod(ts)), dtype=int)
    for values in itertools.product(*(range(loop.bound) for _, loop in loops)):
        index = {d: 0 for d in "RSCM"}
        digits = {"X": [], "Y": [], "T": []}
        for (outer, loop), v in zip(loops, values, strict=True):
            if loop.dim in index:
                index[loop.dim] = index[loop.dim] * loop.bound + v
            if outer:
                digits[loop.spatial or "T"].append((v, loop.bound))

        def radix(pairs):
            out = 0
            for v, b in pairs:
                out = out * b + v
            return out

        pe = radix(digits["X"]) * prod(ys) + radix(digits["Y"])
        counts[pe, radix(digits["T"])] += w[index["R"], index["S"], index["C"], index["M"]] != 0
    return counts


def random_mapping(rng: np.random.Generator) -> tuple[Mapping, tuple[int, int, int, int]]:
    dims = {
        "R": int(rng.choice([1, 2, 3])),
        "S": int(rng.choice([1, 2])),
        "C": int(rng.choice([1, 2, 4, 6])),
        "M": int(rng.choice([2, 4, 6])),
        "P": int(rng.choice([1, 2, 3])),
        "N": int(rng.choice([1, 2])),
    }
    placed: dict[str, list[Loop]] = {name: [] for name in LEVELS}
    for dim, size in dims.items():
        remaining = size
        for level in LEVELS:
            divisors = [f for f in range(1, remaining + 1) if remaining % f == 0]
            factor = remaining if level == LEVELS[-1] else int(rng.choice(divisors))
            remaining //= factor
            if factor > 1:
                spatial = str(rng.choice(["X", "Y"])) if level == "glb" and rng.random() < 0.5 else None
                placed[level].append(Loop(dim, factor, spatial))
    for level in LEVELS:
        rng.shuffle(placed[level])
        placed[level].sort(key=lambda loop: loop.spatial is not None)  # Timeloop prints spatial loops last
    mapping = nest(*((name, placed[name]) for name in LEVELS))
    return mapping, (dims["R"], dims["S"], dims["C"], dims["M"])


@pytest.mark.parametrize("seed", range(25))
def test_vectorised_equals_per_mac_brute_force(seed):
    rng = np.random.default_rng(seed)
    mapping, shape = random_mapping(rng)
    w = rng.random(shape) * (rng.random(shape) < 0.4)
    counts = brute_force(mapping, w, "spad")
    assert pe_pass_counts(mapping, w, "spad").tolist() == counts.tolist()
    result = analyse(mapping, w, "spad")
    assert result.cycles == counts.max(axis=0).sum()
    assert result.sparse_macs == counts.sum()
    assert result.dense_macs == prod(loop.bound for _, loop in mapping.all_loops())


# ----------------------------------------------------------------------------------------- PE level and errors


def test_pe_level_from_stats_and_from_mapping(mobilenet_runs):
    run = read_run(mobilenet_runs / "baseline" / "b1" / "decom")
    assert derive_pe_level(run.mapping, run) == "ifmap_spad"
    assert derive_pe_level(run.mapping) == "ifmap_spad"
    # from the mapping alone: the level below the innermost spatial one
    mapping = nest(("DRAM", [Loop("M", 2)]), ("glb", [Loop("C", 2, "X")]), ("spad", [Loop("M", 2)]))
    assert derive_pe_level(mapping) == "spad"
    assert derive_pe_level(nest(("DRAM", [Loop("M", 2)]), ("spad", [Loop("C", 2)]))) == "DRAM"


def test_errors_name_the_problem():
    mapping, w = two_by_two()
    with pytest.raises(ImbalanceError, match="PE level 'nowhere' is not a level"):
        analyse(mapping, w, "nowhere")
    with pytest.raises(
        ImbalanceError, match=r"spatial loop 'for C in \[0:2\) \(Spatial-X\)' at or below the PE level 'glb'"
    ):
        analyse(mapping, w, "glb")
    with pytest.raises(
        ImbalanceError, match=r"R,S,C,M = \(1, 1, 2, 4\) do not match the weights' shape \(1, 1, 4, 2\)"
    ):
        analyse(mapping, np.ones((1, 1, 4, 2)), "spad")
    with pytest.raises(ImbalanceError, match="innermost mapped level 'spad' fans out spatially"):
        derive_pe_level(nest(("DRAM", [Loop("M", 4)]), ("spad", [Loop("C", 2, "X")])))


# ----------------------------------------------------------------------------------------- recorded runs


def baseline_runs() -> list[str]:
    """Every run on the baseline arch: the 48 bottleneck layers and the baseline head/tail layers."""
    return [n for n in run_names() if n.startswith("baseline/")] + [
        n for n in run_names() if n.startswith("head_and_tail/baseline/")
    ]


def weight_shape(mapping: Mapping) -> tuple[int, ...]:
    return tuple(mapping.factors(d) for d in "RSCM")


def test_b1_decom_matches_timeloop(mobilenet_runs):
    run = read_run(mobilenet_runs / "baseline" / "b1" / "decom")
    dense = analyse(run.mapping, np.ones((1, 1, 16, 96)), "ifmap_spad")
    assert (dense.dense_macs, dense.pes, dense.passes, dense.macs_per_pass) == (1_572_864, 64, 256, 96)
    assert dense.dense_cycles == run.cycles == 24_576
    assert dense.dense_macs == run.macs
    assert dense.cycles == dense.dense_cycles and dense.sparse_macs == dense.dense_macs


@pytest.mark.parametrize("name", baseline_runs())
def test_every_baseline_run(name, mobilenet_runs):
    run = read_run(mobilenet_runs / name)
    shape = weight_shape(run.mapping)
    pe = derive_pe_level(run.mapping, run)
    assert pe == "ifmap_spad"
    dense = analyse(run.mapping, np.ones(shape, dtype=bool), pe)
    assert dense.dense_cycles == run.cycles
    assert dense.dense_macs == run.macs
    assert dense.cycles == dense.dense_cycles and dense.sparse_macs == dense.dense_macs
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    pruned = rng.integers(0, 5, size=shape, dtype=np.uint8) == 0  # ~20 % density
    sparse = analyse(run.mapping, pruned, pe)
    assert sparse.balanced_cycles <= sparse.cycles <= sparse.dense_cycles
    assert sparse.sparse_macs == np.count_nonzero(pruned) * run.macs // pruned.size
    if sparse.pes * sparse.passes <= 1 << 20:
        counts = pe_pass_counts(run.mapping, pruned, pe)
        assert counts.max(axis=0).sum() == sparse.cycles and counts.sum() == sparse.sparse_macs
