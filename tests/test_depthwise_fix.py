"""The paper-form depthwise input fix checks its precondition (issue 16, accelerators/dense.py), by hand.

A 4-channel 1x1 depthwise layer with 4x4 outputs (no halos, so every count is plain): each input channel is 16
words. In the paper's C=1 form (C=1, M=4) the run reads one channel; the closed form adds the Inputs energy x 3 at
the GLB and DRAM. Mapped on arch/eyeriss (paper table: DRAM 512 pJ and GLB max(write) 70.264 pJ per 4-word access)
with one PE:

  A: GLB M4 | psum_spad Q4 P4. The M loop sits above an ifmap-spad tile it does not change, so each input word is
     read once from DRAM and once from the GLB (4 DRAM blocks, 8 GLB blocks of fills + reads): the closed form is
     exact.
  B: DRAM M2 P2 | GLB M2 | psum_spad Q4 P2. The P loop inside DRAM's M loop changes the GLB tile (half a channel,
     8 words) on every iteration, so the C=1 run reads 4 x 8 = 32 words from DRAM, fills 32 into the GLB and
     delivers 32 from it: the one channel is read twice, once per M tile. The real layer moves 2 channels per DRAM
     iteration (64 DRAM reads, 64 GLB fills, 64 GLB reads): the fix is 8 DRAM blocks (32 -> 64 words) and 16 GLB
     blocks (64 -> 128 accesses), not 3x the run's 8 and 16.
"""

from __future__ import annotations

import pytest

from accelerators import AcceleratorError
from accelerators.dense import EYERISS, depthwise_input_fix
from engines import get_engine
from engines.mapping import LevelMapping, Loop, Mapping
from workloads.layer import Layer
from workloads.problem import problems_for, render_problem

DW = Layer("b1.conv", "depthwise", R=1, S=1, P=4, Q=4, C=4, M=4, groups=4, part="body", block=1, role="conv")
ALL, GLB_KEEP = ("Weights", "Inputs", "Outputs"), ("Inputs", "Outputs")
DRAM_BLOCK, GLB_BLOCK = 512.0, 70.264


def mapping(dram=(), glb=(), psum=()) -> Mapping:
    return Mapping(
        (
            LevelMapping("DRAM", tuple(dram), ALL),
            LevelMapping("shared_glb", tuple(glb), GLB_KEEP),
            LevelMapping("DummyBuffer", (), ()),
            LevelMapping("ifmap_spad", (), ("Inputs",)),
            LevelMapping("weights_spad", (), ("Weights",)),
            LevelMapping("psum_spad", tuple(psum), ("Outputs",)),
        )
    )


A = mapping(glb=[Loop("M", 4)], psum=[Loop("Q", 4), Loop("P", 4)])
B = mapping(dram=[Loop("M", 2), Loop("P", 2)], glb=[Loop("M", 2)], psum=[Loop("Q", 4), Loop("P", 2)])


def model(form: str, nest: Mapping, tmp_path):
    (problem,) = problems_for(DW, form)
    path = tmp_path / f"{form}.yaml"
    path.write_text(render_problem(problem))
    return get_engine("embedded").model(EYERISS, path, nest)


def inputs(stats, level: str):
    return stats.level(level).tensors["Inputs"]


def test_precondition_holds_closed_form(tmp_path):
    paper = model("paper", A, tmp_path)
    assert [(inputs(paper, n).reads, inputs(paper, n).partition_size) for n in ("shared_glb", "DRAM")] == [(16, 16)] * 2
    closed = depthwise_input_fix(paper, DW, "paper", check="artifact")
    checked = depthwise_input_fix(paper, DW, "paper", check="checked")
    assert (
        closed == checked == {"shared_glb": pytest.approx(3 * 8 * GLB_BLOCK), "DRAM": pytest.approx(3 * 4 * DRAM_BLOCK)}
    )
    coupled = model("coupled", A, tmp_path)  # the exact layer on the same loop nest
    for name in checked:
        assert inputs(paper, name).energy_pJ + checked[name] == pytest.approx(inputs(coupled, name).energy_pJ)


def test_precondition_fails_exact_fix_from_the_mapping(tmp_path):
    paper = model("paper", B, tmp_path)
    assert (inputs(paper, "DRAM").reads, inputs(paper, "shared_glb").reads, inputs(paper, "shared_glb").fills) == (
        32,
        32,
        32,
    )
    closed = depthwise_input_fix(paper, DW, "paper", check="artifact")
    assert closed == {"shared_glb": pytest.approx(3 * 16 * GLB_BLOCK), "DRAM": pytest.approx(3 * 8 * DRAM_BLOCK)}
    checked = depthwise_input_fix(paper, DW, "paper", check="checked")  # the run's meta names arch/eyeriss
    assert checked == {"shared_glb": pytest.approx(16 * GLB_BLOCK), "DRAM": pytest.approx(8 * DRAM_BLOCK)}
    coupled = model("coupled", B, tmp_path)
    assert (inputs(coupled, "DRAM").reads, inputs(coupled, "shared_glb").reads) == (64, 64)
    for name in checked:
        assert inputs(paper, name).energy_pJ + checked[name] == pytest.approx(inputs(coupled, name).energy_pJ)


def test_checked_fix_refuses_what_it_cannot_compute(tmp_path):
    paper = model("paper", B, tmp_path)
    paper.mapping = None
    with pytest.raises(
        AcceleratorError,
        match=r"layer b1.conv: the paper-form depthwise input fix needs each input "
        r"word read once, but shared_glb reads 32 words for the channel's 16, "
        r"DRAM reads 32 words .*needs the run's mapping and arch",
    ):
        depthwise_input_fix(paper, DW, "paper", check="checked")
    with pytest.raises(AcceleratorError, match="counts the layer's 4 channels, not 8"):
        depthwise_input_fix(model("paper", A, tmp_path), DW, "paper", channels=8, check="checked")
    assert depthwise_input_fix(model("coupled", A, tmp_path), DW, "coupled", check="checked") == {}


def test_archon_knob_dw_fix_check(tmp_path):
    """ARCHON's prediction of the depthwise layer takes the same fix: checked by default, the closed form in the paper
    preset (dw_fix_check: artifact)."""
    from fusion import load_params, prediction_cost
    from workloads.network import Block

    pred = DW.with_(name="b1.pred_conv", role="pred_conv")
    main = Layer("b1.main", "conv", R=3, S=3, P=4, Q=4, C=2, M=2, part="body", block=1, role="main")
    decom = Layer("b1.pred_decom", "pointwise", R=1, S=1, P=4, Q=4, C=2, M=4, part="body", block=1, role="pred_decom")
    block = Block(1, 2, 4, 2, 4, 1, 3, 1, (decom, pred, main), pred_bits=4, prune_factor=0.1)
    paper = model("paper", B, tmp_path)
    params = load_params("default").with_(depthwise_form="paper")
    checked = prediction_cost(pred, block, paper, params).terms["dw_fix"]
    closed = prediction_cost(pred, block, paper, params.with_(dw_fix_check="artifact")).terms["dw_fix"]
    assert (checked, closed) == (pytest.approx(16 * GLB_BLOCK + 8 * DRAM_BLOCK), pytest.approx(3 * checked))
    assert load_params("paper").dw_fix_check == "artifact"
