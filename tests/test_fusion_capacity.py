"""ARCHON's fused weights and prediction masks costed from mappings and capacities (issue 16, docs/model.md), by hand.

The main run is a real embedded-model evaluation on arch/archon/main (the paper energy table: DRAM 512 pJ per 4-word
access, GLB max(write) 68.751 pJ per 4-word access) of a 16x16 3x3 convolution 8 -> 8 with a fixed mapping:
DRAM Q2 | GLB P2 C8 M8, X: P8 | Y: Q8 | psum S3 R3. Nothing below DRAM keeps weights, so every weight is read from
DRAM once per (Q, P) tile: 2 x 2 = 4 passes. The GLB holds one Q half: Inputs 8 channels x 10 rows x 18 columns =
1440 words, Outputs 8 x 16 x 8 = 1024 words, leaving 12800 x 64 / 16 - 2464 = 48736 words free.
"""

from __future__ import annotations

import pytest

from engines import get_engine
from engines.mapping import LevelMapping, Loop, Mapping
from fusion import load_params, main_cost, overhead_cost
from fusion.overhead import fused_weight_cost, mask_bits, mask_storage, pred_glb_capacity_bits
from fusion.params import REPO_ROOT
from fusion.runs import FusionError
from workloads.layer import Layer
from workloads.network import Block
from workloads.problem import problems_for, render_problem

MAIN_ARCH = REPO_ROOT / "arch" / "archon" / "main"
DRAM_WORD = 512 / 4
GLB_WORD = 68.751 / 4
PRED_GLB_ROW = 21.456 + 21.203  # one write + one read of a 64-bit pred_glb row
DEFAULT = load_params("default")


def layers(in_ch: int, mid: int, out: int, pix: int, stride: int = 1) -> tuple[Layer, ...]:
    def body(role: str, kind: str, **dims) -> Layer:
        return Layer(
            name=f"b1.{role}", kind=kind, part="body", block=1, role=role, stride=dims.pop("stride", 1), **dims
        )

    return (
        body("pred_decom", "pointwise", R=1, S=1, P=pix * stride, Q=pix * stride, C=in_ch, M=mid),
        body("pred_conv", "depthwise", R=3, S=3, P=pix, Q=pix, C=mid, M=mid, groups=mid, stride=stride),
        body("main", "conv", R=3, S=3, P=pix, Q=pix, C=in_ch, M=out, stride=stride),
    )


def block(mid: int, prune: float = 0.5, pix: int = 16, stride: int = 1) -> Block:
    return Block(1, 8, mid, 8, pix, stride, 3, 1, layers(8, mid, 8, pix, stride), pred_bits=4, prune_factor=prune)


@pytest.fixture(scope="module")
def main_stats(tmp_path_factory):
    (problem,) = problems_for(block(16).layer("main"))
    path = tmp_path_factory.mktemp("main") / "problem.yaml"
    path.write_text(render_problem(problem))
    keep = ("Weights", "Inputs", "Outputs")
    mapping = Mapping(
        (
            LevelMapping("DRAM", (Loop("Q", 2),), keep),
            LevelMapping(
                "shared_glb", (Loop("P", 2), Loop("C", 8), Loop("M", 8), Loop("P", 8, "X")), ("Inputs", "Outputs")
            ),
            LevelMapping("DummyBuffer", (Loop("Q", 8, "Y"),), ()),
            LevelMapping("ifmap_spad", (), ("Inputs",)),
            LevelMapping("psum_spad", (Loop("S", 3), Loop("R", 3)), ("Outputs",)),
        )
    )
    stats = get_engine("embedded").model(MAIN_ARCH, path, mapping)
    stats.meta["arch"] = "arch/archon/main"  # as the workflow records it
    return stats


def test_the_main_run_facts(main_stats):
    # the main arch bypasses weights at every on-chip level: the run has no on-chip weight energy
    assert [lvl.name for lvl in main_stats.levels[1:] if "Weights" in lvl.tensors] == ["DRAM"]
    glb = main_stats.level("shared_glb").tensors
    assert (glb["Inputs"].utilized_capacity, glb["Outputs"].utilized_capacity) == (1440, 1024)
    run = main_cost(block(16).layer("main"), main_stats, DEFAULT).run
    assert (run.weight_passes, run.glb_free_words, run.dram_word_bits) == (4, 48736, 16)
    assert run.dram_word_pJ == pytest.approx(DRAM_WORD) and run.glb_word_pJ == pytest.approx(GLB_WORD)


def test_fused_weights_that_fit_are_read_from_dram_once(main_stats):
    small = block(16)  # 8 x 16 x 9 x 8 x 0.5 = 4608 kept weights, x 26/16 = 7488 words < 48736
    cost = fused_weight_cost(small, DEFAULT, main_cost(small.layer("main"), main_stats, DEFAULT))
    assert (cost.kept, cost.words, cost.resident_words, cost.passes) == (4608, 7488, 7488, 4)
    assert cost.dram_pJ == pytest.approx(7488 * DRAM_WORD)  # no refetch
    assert cost.glb_pJ == pytest.approx(7488 * (1 + 4) * GLB_WORD)  # one write, one read per pass
    closed = fused_weight_cost(small, DEFAULT.with_(weight_refetch="tiles"))  # 256 pixels / 64 = 4 refetches
    assert (closed.dram_pJ, closed.glb_pJ) == (pytest.approx(4608 * 128 * 26 / 16 * 4), 0.0)


def test_fused_weights_that_do_not_fit_refetch_what_the_mapping_says(main_stats):
    big = block(512)  # 147456 kept weights, 239616 words: 48736 stay, 190880 are read from DRAM on each of 4 passes
    cost = fused_weight_cost(big, DEFAULT, main_cost(big.layer("main"), main_stats, DEFAULT))
    assert (cost.words, cost.resident_words) == (239616, 48736)
    assert cost.dram_pJ == pytest.approx((48736 + 190880 * 4) * DRAM_WORD)
    assert cost.glb_pJ == pytest.approx(48736 * 5 * GLB_WORD)


def test_one_pass_streams_from_dram_without_the_buffer(main_stats):
    """With one pass the buffer would only add a write and a read to the single DRAM read: nothing stays."""
    main = main_cost(block(16).layer("main"), main_stats, DEFAULT)
    one_pass = main.__class__(
        main.energy_pJ, main.cycles, main.dram_weights_pJ, 1, main.run.__class__(1.0, 48736, DRAM_WORD, GLB_WORD, 16)
    )
    cost = fused_weight_cost(block(16), DEFAULT, one_pass)
    assert (cost.resident_words, cost.glb_pJ, cost.dram_pJ) == (0.0, 0.0, pytest.approx(7488 * DRAM_WORD))


def test_grouped_main_run_keeps_each_groups_weights():
    """A grouped coupled main run is G copies run one after another: each copy holds 1/G of the fused weights."""
    from fusion.main import MainCost, MainRun

    main = MainCost(0.0, 0, 0.0, copies=4, run=MainRun(16.0, 10000, DRAM_WORD, GLB_WORD, 16))
    b = block(512)  # 239616 words: 59904 per group, 10000 of them resident
    cost = fused_weight_cost(b, DEFAULT, main)
    assert cost.resident_words == 4 * 10000
    assert cost.dram_pJ == pytest.approx(4 * (10000 + 49904 * 16) * DRAM_WORD)


def test_masks_that_fit_stay_in_pred_glb(main_stats):
    small = block(16)  # 16 x 16^2 decom signs + 16 x 16^2 depthwise signs = 8192 bits < 1094 x 64
    assert pred_glb_capacity_bits(DEFAULT.overhead_arch_dir) == 70016
    main = main_cost(small.layer("main"), main_stats, DEFAULT)
    masks = mask_storage(small, DEFAULT, main)
    assert (masks.bits, masks.resident_bits, masks.spilled_bits, masks.spill_pJ) == (8192, 8192, 0, 0.0)
    cost = overhead_cost(small, main, DEFAULT)
    chip = {(a.component, a.action): a.count for a in cost.counts.chip}
    assert chip[("pred_glb", "write")] == chip[("pred_glb", "read")] == 8192 // 64
    assert cost.terms["pred_glb"] == pytest.approx(128 * PRED_GLB_ROW)
    assert cost.terms["pred_DRAM"] == 0.0


def test_masks_that_do_not_fit_spill_to_dram(main_stats):
    big = block(512)  # 2 x 512 x 256 = 262144 bits: 70016 in pred_glb, 192128 written and read back from DRAM
    main = main_cost(big.layer("main"), main_stats, DEFAULT)
    cost = overhead_cost(big, main, DEFAULT)
    assert cost.facts["spilled_mask_bits"] == 192128
    assert cost.terms["pred_DRAM"] == pytest.approx(2 * 192128 * DRAM_WORD / 16)  # 8 pJ per bit each way
    assert cost.terms["pred_glb"] == pytest.approx(1094 * PRED_GLB_ROW)
    assert cost.energy_pJ == pytest.approx(sum(cost.terms.values()))
    # count_pred_glb false drops only the resident part's energy
    uncounted = overhead_cost(big, main, DEFAULT.with_(count_pred_glb=False))
    assert cost.energy_pJ - uncounted.energy_pJ == pytest.approx(1094 * PRED_GLB_ROW)
    # the capacity is a knob
    assert mask_storage(big, DEFAULT.with_(pred_glb_bits=262144), main).spilled_bits == 0


def test_mask_bits_follow_the_prediction_layers():
    """A stride-2 block predicts PW1 at the input resolution: mid (2 pix)^2 + mid pix^2 sign bits."""
    assert mask_bits(block(64, pix=8, stride=2), DEFAULT) == 64 * 16 * 16 + 64 * 8 * 8
    assert mask_bits(block(64, pix=8, stride=2), DEFAULT.with_(sign_bits=2)) == 2 * (64 * 16 * 16 + 64 * 8 * 8)


def test_capacity_models_need_the_main_run():
    with pytest.raises(FusionError, match="block 1: mask_storage: capacity needs the block's main run"):
        overhead_cost(block(16), 1000, DEFAULT)
    with pytest.raises(FusionError, match="block 1: weight_refetch: mapping needs the block's main run"):
        overhead_cost(block(16), 1000, DEFAULT.with_(mask_storage="proxy"))
