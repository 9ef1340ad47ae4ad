"""Hand-computed checks of the embedded model's tricky parts on tiny problems.

Architecture (pJ per access in the ERT): DRAM (10) -> GLB (2, 64 words) -> PE[0..3] (meshX 4) with
one register file `spad` (1, 8 words) and a MAC (1). Problem: y[n] += w[k, n] * x[k]
(dimensions K, N; Weights[K, N], Inputs[K], Outputs[N] read-write).
"""

from __future__ import annotations

import copy

import pytest

from engines.base import EngineError
from engines.embedded.analysis import fast_analysis
from engines.embedded.energy import parse_energy_table
from engines.embedded.model import evaluate_mapping
from engines.embedded.problem import parse_problem
from engines.embedded.reference import reference_analysis
from engines.mapping import LevelMapping, Loop, Mapping
from specs.arch import parse_arch
from specs.errors import SpecError

ARCH = {
    "architecture": {
        "version": 0.3,
        "subtree": [
            {
                "name": "system",
                "local": [
                    {"name": "DRAM", "class": "DRAM", "attributes": {"width": 16, "block-size": 1, "word-bits": 16}}
                ],
                "subtree": [
                    {
                        "name": "chip",
                        "attributes": {"technology": "45nm"},
                        "local": [
                            {
                                "name": "GLB",
                                "class": "smartbuffer_SRAM",
                                "attributes": {
                                    "memory_depth": 64,
                                    "memory_width": 16,
                                    "block-size": 1,
                                    "word-bits": 16,
                                },
                            }
                        ],
                        "subtree": [
                            {
                                "name": "PE[0..3]",
                                "local": [
                                    {
                                        "name": "spad",
                                        "class": "regfile",
                                        "attributes": {
                                            "depth": 8,
                                            "width": 16,
                                            "block-size": 1,
                                            "word-bits": 16,
                                            "meshX": 4,
                                        },
                                    },
                                    {"name": "mac", "class": "intmac", "attributes": {"datawidth": 16, "meshX": 4}},
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
}


def _ert(**energies: float) -> dict:
    # Two actions per component: the model must take the larger one.
    return {
        "ERT": {
            "version": 0.3,
            "tables": [
                {
                    "name": f"system.{name}",
                    "actions": [{"name": "read", "energy": e / 2}, {"name": "write", "energy": e}],
                }
                for name, e in energies.items()
            ],
        }
    }


ERT = _ert(DRAM=10.0, **{"chip.GLB": 2.0, "chip.PE[0..3].spad": 1.0, "chip.PE[0..3].mac": 1.0})

PROBLEM_SHAPE = {
    "name": "vecmat",
    "dimensions": ["K", "N"],
    "data-spaces": [
        {"name": "Weights", "projection": [[["K"]], [["N"]]]},
        {"name": "Inputs", "projection": [[["K"]]]},
        {"name": "Outputs", "projection": [[["N"]]], "read-write": True},
    ],
}


def problem(K: int, N: int):
    return parse_problem({"problem": {"shape": PROBLEM_SHAPE, "instance": {"K": K, "N": N}}})


def mapping(
    dram=(), glb=(), spad=(), keep_glb=("Weights", "Inputs", "Outputs"), keep_spad=("Weights", "Inputs", "Outputs")
) -> Mapping:
    all_t = ("Weights", "Inputs", "Outputs")
    return Mapping(
        (
            LevelMapping("DRAM", tuple(dram), all_t),
            LevelMapping("GLB", tuple(glb), tuple(keep_glb)),
            LevelMapping("spad", tuple(spad), tuple(keep_spad)),
        )
    )


def run(prob, mapping_, arch=ARCH, ert=ERT):
    arch_spec, table = parse_arch(arch), parse_energy_table(ert)
    fast = evaluate_mapping(arch_spec, table, prob, mapping_, fast_analysis)
    slow = evaluate_mapping(arch_spec, table, prob, mapping_, reference_analysis)
    assert fast.to_dict() == slow.to_dict(), "fast and reference analyses disagree"
    return fast


def counts(stats, level: str, tensor: str) -> tuple[int, int, int]:
    t = stats.level(level).tensors[tensor]
    return t.reads, t.updates, t.fills


# ---------------------------------------------------------------- multicast


def test_multicast_inputs_shared_by_all_pes():
    # N=4 spread over the 4 PEs; every PE needs the same Inputs x[0..1] -> one multicast of 4.
    s = run(problem(2, 4), mapping(glb=[Loop("N", 4, "X")], spad=[Loop("K", 2)]))
    assert s.cycles == 2 and s.macs == 8 and s.level("mac").utilized_instances == 4
    assert counts(s, "GLB", "Inputs") == (2, 0, 2)  # each input read once, delivered to 4 PEs
    assert counts(s, "spad", "Inputs") == (2, 0, 2)  # but filled into every PE
    assert counts(s, "GLB", "Weights") == (8, 0, 8)  # weights differ per PE: no multicast
    assert counts(s, "spad", "Weights") == (2, 0, 2)
    assert s.level("spad").tensors["Inputs"].utilized_instances == 4
    # energies: spad per PE (I: 2 reads + 2 fills) x 1 pJ x 4 PEs; GLB (I: 2+2) x 2 pJ
    assert s.energy("spad", "Inputs") == pytest.approx(16.0)
    assert s.energy("GLB", "Inputs") == pytest.approx(8.0)
    assert s.mac_energy_pJ == pytest.approx(8.0)


def test_read_write_first_access_elided_at_backing_store():
    s = run(problem(2, 4), mapping(glb=[Loop("N", 4, "X")], spad=[Loop("K", 2)]))
    # Each PE accumulates 2 partial sums into its 1-word output tile: 2 updates, 1 read.
    assert counts(s, "spad", "Outputs") == (1, 2, 1)
    assert s.level("spad").tensors["Outputs"].partition_size == 1
    # GLB receives 4 final outputs: updates 4, reads 4 - partition 4 = 0, yet its fills are 4
    # (the child-side fill of a read-write tensor is counted although the parent elides the read).
    assert counts(s, "GLB", "Outputs") == (0, 4, 4)
    assert counts(s, "DRAM", "Outputs") == (0, 4, 0)


# ---------------------------------------------------------------- spatial reduction


def test_spatial_reduction_of_outputs():
    # K=4 over the PEs: all PEs produce partial sums of the same y[0..1] -> reduced in the network.
    s = run(problem(4, 2), mapping(glb=[Loop("K", 4, "X")], spad=[Loop("N", 2)]))
    assert counts(s, "spad", "Outputs") == (0, 2, 2)
    assert counts(s, "GLB", "Outputs") == (0, 2, 2)  # 2 updates, not 4 PEs x 2
    assert counts(s, "GLB", "Inputs") == (4, 0, 4)  # x[k] differs per PE: unicast
    assert counts(s, "spad", "Inputs") == (2, 0, 1)


# ---------------------------------------------------------------- temporal reuse and bypass


def test_temporal_reuse_of_stationary_inputs():
    # Single PE; N outer at the GLB, K inner at the spad: Inputs stay in the spad across n.
    s = run(problem(2, 4), mapping(glb=[Loop("N", 4)], spad=[Loop("K", 2)]))
    assert s.cycles == 8 and s.level("mac").utilized_instances == 1
    assert counts(s, "spad", "Inputs") == (8, 0, 2)
    assert counts(s, "GLB", "Inputs") == (2, 0, 2)
    assert counts(s, "spad", "Weights") == (8, 0, 8)
    # Outputs: 8 updates into a 1-word tile. The partition (words this instance owns) stays 4
    # without a spatial split, so reads = 8 updates - 4 first writes = 4; 4 fills.
    assert counts(s, "spad", "Outputs") == (4, 8, 4)
    assert s.level("spad").tensors["Outputs"].partition_size == 4
    assert counts(s, "GLB", "Outputs") == (0, 4, 4)


def test_bypass_pushes_reads_to_the_parent():
    # The spad does not keep Inputs: every MAC reads its input from the GLB.
    s = run(problem(2, 4), mapping(glb=[Loop("N", 4)], spad=[Loop("K", 2)], keep_spad=("Weights", "Outputs")))
    assert "Inputs" not in s.level("spad").tensors
    assert counts(s, "GLB", "Inputs") == (8, 0, 2)
    assert counts(s, "DRAM", "Inputs") == (2, 0, 0)


def test_bypass_at_glb_goes_straight_to_dram():
    s = run(problem(2, 4), mapping(glb=[Loop("N", 4, "X")], spad=[Loop("K", 2)], keep_glb=("Inputs", "Outputs")))
    assert "Weights" not in s.level("GLB").tensors
    assert s.energy("GLB", "Weights") == 0.0
    assert counts(s, "DRAM", "Weights") == (8, 0, 0)
    assert counts(s, "spad", "Weights") == (2, 0, 2)


# ---------------------------------------------------------------- bandwidth, blocks, clusters


def test_bandwidth_throttling():
    arch = copy.deepcopy(ARCH)
    spad = arch["architecture"]["subtree"][0]["subtree"][0]["subtree"][0]["local"][0]
    spad["attributes"].update({"read_bandwidth": 1.5, "write_bandwidth": 3})
    s = run(problem(2, 4), mapping(glb=[Loop("N", 4)], spad=[Loop("K", 2)]), arch=arch)
    # spad reads per cycle: (8 W + 8 I + 4 O) / 8 = 2.5 > 1.5; writes (8 + 2 + 8 + 4) / 8 = 2.75 <= 3.
    # Slowdown = 1.5 / 2.5 = 0.6 -> ceil(8 / 0.6) = 14 cycles; the MACs still need 8.
    assert s.level("mac").cycles == 8
    assert s.level("spad").cycles == 14
    assert s.level("GLB").cycles == 8
    assert s.cycles == 14
    assert s.utilization == pytest.approx(8 / 4 / 14)


def test_vector_access_energy_per_block():
    arch = copy.deepcopy(ARCH)
    dram = arch["architecture"]["subtree"][0]["local"][0]
    dram["attributes"].update({"block-size": 4, "width": 64})
    s = run(problem(2, 5), mapping(glb=[Loop("N", 5)], spad=[Loop("K", 2)]), arch=arch)
    # DRAM Weights: 10 reads -> ceil(10/4) = 3 blocks x 10 pJ; Inputs 2 reads -> 1 block.
    assert counts(s, "DRAM", "Weights") == (10, 0, 0)
    assert s.energy("DRAM", "Weights") == pytest.approx(30.0)
    assert s.energy("DRAM", "Inputs") == pytest.approx(10.0)
    assert s.level("DRAM").tensors["Weights"].energy_per_access_pJ == pytest.approx(3.0)


def test_sliding_window_inputs_reuse():
    # 1-D convolution y[p] += w[r] x[p + r], P=4, R=3: the spad holds 3 inputs and slides by one.
    shape = {
        "name": "conv1d",
        "dimensions": ["R", "P"],
        "data-spaces": [
            {"name": "Weights", "projection": [[["R"]]]},
            {"name": "Inputs", "projection": [[["R"], ["P"]]]},
            {"name": "Outputs", "projection": [[["P"]]], "read-write": True},
        ],
    }
    prob = parse_problem({"problem": {"shape": shape, "instance": {"R": 3, "P": 4}}})
    m = Mapping(
        (
            LevelMapping("DRAM", (), ("Weights", "Inputs", "Outputs")),
            LevelMapping("GLB", (Loop("P", 4),), ("Weights", "Inputs", "Outputs")),
            LevelMapping("spad", (Loop("R", 3),), ("Weights", "Inputs", "Outputs")),
        )
    )
    s = run(prob, m)
    # Inputs at the spad: first window 3 words, then 1 new word per step -> 3 + 3 = 6 fills.
    assert counts(s, "spad", "Inputs") == (12, 0, 6)
    assert counts(s, "GLB", "Inputs") == (6, 0, 6)
    assert s.level("DRAM").tensors["Inputs"].utilized_capacity == 6
    assert counts(s, "spad", "Weights") == (12, 0, 3)  # weights stay resident


def test_depthwise_coupled_shape():
    # Channels coupled (no C x M product): Weights[C,R,S], Inputs[C, P+R, Q+S], Outputs[C,Q,P].
    shape = {
        "name": "depthwise",
        "dimensions": ["C", "R", "S", "P", "Q"],
        "data-spaces": [
            {"name": "Weights", "projection": [[["C"]], [["R"]], [["S"]]]},
            {"name": "Inputs", "projection": [[["C"]], [["R"], ["P"]], [["S"], ["Q"]]]},
            {"name": "Outputs", "projection": [[["C"]], [["Q"]], [["P"]]], "read-write": True},
        ],
    }
    prob = parse_problem({"problem": {"shape": shape, "instance": {"C": 4, "R": 3, "S": 3, "P": 2, "Q": 2}}})
    m = Mapping(
        (
            LevelMapping("DRAM", (Loop("Q", 2),), ("Weights", "Inputs", "Outputs")),
            LevelMapping("GLB", (Loop("P", 2), Loop("S", 3), Loop("C", 4, "X")), ("Inputs", "Outputs")),
            LevelMapping("spad", (Loop("R", 3),), ("Weights", "Inputs", "Outputs")),
        )
    )
    s = run(prob, m)
    assert s.macs == 4 * 9 * 4
    assert s.level("mac").utilized_instances == 4
    assert s.level("DRAM").tensors["Inputs"].utilized_capacity == 4 * 4 * 4
    assert s.level("spad").tensors["Weights"].utilized_capacity == 3
    assert s.level("GLB").tensors["Inputs"].utilized_capacity == 4 * 4 * 3
    # No multicast anywhere: every PE owns one channel.
    assert counts(s, "GLB", "Inputs")[0] == 4 * s.level("spad").tensors["Inputs"].fills


# ---------------------------------------------------------------- errors


def test_capacity_overflow_names_level_and_tensors():
    with pytest.raises(EngineError, match=r"level 'spad'.*Weights:16.*capacity is 8"):
        run(problem(16, 4), mapping(glb=[Loop("N", 4, "X")], spad=[Loop("K", 16)]))


def test_factors_must_multiply_to_problem():
    with pytest.raises(EngineError, match=r"dimension K multiply to 3.*K=2"):
        run(problem(2, 4), mapping(glb=[Loop("N", 4, "X")], spad=[Loop("K", 3)]))


def test_spatial_fanout_larger_than_mesh():
    with pytest.raises(EngineError, match=r"level 'GLB': spatial-X fan-out 8 exceeds the mesh \(4"):
        run(problem(2, 8), mapping(glb=[Loop("N", 8, "X")], spad=[Loop("K", 2)]))


def test_spatial_axis_without_fanout():
    with pytest.raises(EngineError, match=r"level 'GLB': spatial-Y fan-out 2 exceeds the mesh \(1"):
        run(problem(2, 4), mapping(glb=[Loop("N", 2, "X"), Loop("N", 2, "Y")], spad=[Loop("K", 2)]))


def test_unknown_component_class_names_level():
    arch = copy.deepcopy(ARCH)
    arch["architecture"]["subtree"][0]["subtree"][0]["local"][0]["class"] = "magic_cache"
    with pytest.raises(SpecError, match=r"level 'GLB': unknown component class 'magic_cache'"):
        parse_arch(arch, source="arch.yaml")


def test_unknown_mapping_level():
    bad = Mapping((LevelMapping("DRAM", (), ("Weights",)), LevelMapping("L2", (Loop("K", 2),), ())))
    with pytest.raises(EngineError, match=r"mapping level 'L2' is not a storage level"):
        run(problem(2, 1), bad)


def test_unknown_tensor_kept():
    bad = mapping(glb=[Loop("N", 4, "X")], spad=[Loop("K", 2)], keep_spad=("Psums",))
    with pytest.raises(EngineError, match=r"level 'spad': keeps unknown tensor"):
        run(problem(2, 4), bad)


def test_missing_energy_entry():
    ert = _ert(DRAM=10.0, **{"chip.GLB": 2.0, "chip.PE[0..3].mac": 1.0})
    with pytest.raises(EngineError, match=r"no entry for level 'spad'"):
        run(problem(2, 4), mapping(glb=[Loop("N", 4, "X")], spad=[Loop("K", 2)]), ert=ert)


def test_problem_errors_name_the_field():
    with pytest.raises(SpecError, match=r"prob.yaml: field problem.instance.N: missing"):
        parse_problem({"problem": {"shape": PROBLEM_SHAPE, "instance": {"K": 2}}}, source="prob.yaml")
    bad_shape = copy.deepcopy(PROBLEM_SHAPE)
    bad_shape["data-spaces"][0]["projection"] = [[["Z"]]]
    with pytest.raises(SpecError, match=r"data-spaces\[0\].projection\[0\]\[0\]: unknown dimension 'Z'"):
        parse_problem({"problem": {"shape": bad_shape, "instance": {"K": 2, "N": 2}}}, source="prob.yaml")
