"""Prediction layers: the paper preset on MobileNetV2/CIFAR-10 block 1 (docs/method.md §6.1 worked example), and
formulas A and B by hand on a synthetic run (default fixes: kernel-size-aware MAC count, coupled depthwise without
fix, one chip-level fix for paper-form depthwise runs, grouped repeat, ceil cycles)."""

from __future__ import annotations

import pytest
from fixtures import read_run

from engines.stats import LayerStats, LevelStats, TensorStats
from fusion import FusionError, evaluate_edge_layer, load_params, prediction_cost
from workloads.layer import Layer
from workloads.network import Block
from workloads.zoo import load_network

T = TensorStats


def synthetic_stats(macs: int) -> LayerStats:
    """A predictions-arch run with round energies (pJ); total 6880 pJ; 10 outputs written to DRAM."""
    levels = [
        LevelStats("mac", 64, arithmetic_energy_pJ=700.0),
        LevelStats("psum_spad", 64, tensors={"Outputs": T(1000.0)}),
        LevelStats("weights_spad", 64, tensors={"Weights": T(800.0)}),
        LevelStats("ifmap_spad", 64, tensors={"Inputs": T(600.0)}),
        LevelStats("DummyBuffer", 8),
        LevelStats("shared_glb", 1, tensors={"Inputs": T(400.0), "Outputs": T(300.0)}),
        LevelStats(
            "DRAM", 1, tensors={"Weights": T(1600.0), "Inputs": T(200.0), "Outputs": T(1280.0, partition_size=10)}
        ),
    ]
    return LayerStats(levels, cycles=1000, macs=macs, utilization=1.0, total_energy_pJ=6880.0)


def body(name: str, kind: str, role: str, **dims) -> Layer:
    return Layer(name=name, kind=kind, part="body", block=1, role=role, **dims)


DW5 = body("b1.pred_conv", "depthwise", "pred_conv", R=5, S=5, P=4, Q=4, C=8, M=8, groups=8)  # 3200 MACs
DECOM_G4 = body("b1.pred_decom", "grouped-pointwise", "pred_decom", R=1, S=1, P=4, Q=4, C=8, M=16, groups=4)
COMP = body("b1.pred_comp", "pointwise", "pred_comp", R=1, S=1, P=4, Q=4, C=8, M=8)
MAIN = body("b1.main", "conv", "main", R=5, S=5, P=4, Q=4, C=8, M=8)


def block(in_ch: int = 4) -> Block:
    return Block(1, in_ch, 8, 8, 4, 1, 5, 1, (DECOM_G4, DW5, MAIN), pred_bits=4, prune_factor=0.1)


# the default preset with the reference's mask model (each prediction writes its sign bits to DRAM) and the
# artifact's closed-form depthwise fix (the synthetic runs have no mapping); capacity and checks: see below
DEFAULT = load_params("default").with_(mask_storage="proxy", dw_fix_check="artifact")


def test_default_depthwise_5x5_by_hand():
    cost = prediction_cost(DW5, block(), synthetic_stats(3200), DEFAULT)
    # run + sign writes - 7/8 weights - MAC - 3/4 inputs - (GLB + DRAM outputs) + 0.22 x outputs + 0.043 x MACs x 1/4
    expected = 6880 + 10 * 8 - 7 / 8 * 2400 - 700 - 0.75 * 1200 - 1580 + 0.22 * 128 + 0.043 * 3200 * 0.25
    assert cost.energy_pJ == pytest.approx(expected) == pytest.approx(1742.56)
    assert cost.terms["dw_fix"] == 0.0  # coupled form: nothing to fix
    assert cost.terms["pred_macs"] == pytest.approx(0.22 * 128)  # 5x5 -> one multiply per 25 MACs
    assert cost.cycles == 42  # ceil(1000 / 24)
    paper_mac = prediction_cost(DW5, block(), synthetic_stats(3200), DEFAULT.with_(dw_mac_divisor=9))
    assert paper_mac.terms["pred_macs"] == pytest.approx(0.22 * 3200 / 9)


def test_paper_form_depthwise_fix_one_formula():
    """Default knobs on a paper-form (C=1) run: the chip-level fix, the same for predictions and head/tail."""
    params = DEFAULT.with_(depthwise_form="paper")
    cost = prediction_cost(DW5, block(), synthetic_stats(3200), params)
    assert cost.terms["dw_fix"] == pytest.approx((400 + 200) * 7)
    assert cost.terms["inputs_quantized"] == pytest.approx(-0.75 * (600 + 400 * 8 + 200 * 8))
    assert cost.energy_pJ == pytest.approx(1742.56 + 4200 - 0.75 * 4200)
    edge = DW5.with_(name="head.DW1", part="head", block=None, role="layer")
    assert evaluate_edge_layer(edge, synthetic_stats(3200), params).energy_pJ == pytest.approx(6880 + 4200)
    # the paper preset's two different fixes: DRAM inputs for predictions, GLB inputs for head/tail
    paper = params.with_(dw_fix_pred_levels=("DRAM",), dw_fix_edge_levels=("shared_glb",))
    assert prediction_cost(DW5, block(), synthetic_stats(3200), paper).terms["dw_fix"] == pytest.approx(1400)
    assert evaluate_edge_layer(edge, synthetic_stats(3200), paper).energy_pJ == pytest.approx(6880 + 2800)
    with pytest.raises(FusionError, match="depthwise fix level 'GLB' is not in the run"):
        prediction_cost(DW5, block(), synthetic_stats(3200), params.with_(dw_fix_pred_levels=("GLB",)))


def test_grouped_decom_repeat_and_cycle_rounding():
    stats = synthetic_stats(128)  # one group: 2 -> 4 channels at 4x4
    per_copy = 6880 + 80 - 2100 - 700 - 0.75 * 1200 - 0.75 * 1280 + 0.22 * 64 + 0.043 * 128 * 0.25
    cost = prediction_cost(DECOM_G4, block(), stats, DEFAULT)
    assert cost.energy_pJ == pytest.approx(4 * per_copy)
    assert cost.cycles == 167  # ceil(4 x 1000 / 24)
    assert prediction_cost(DECOM_G4, block(), stats, DEFAULT.with_(cycle_rounding="floor")).cycles == 166
    assert prediction_cost(DECOM_G4, block(), stats, DEFAULT.with_(adders_per_pe=5)).cycles == 200
    no_q = prediction_cost(DECOM_G4, block(), stats, DEFAULT.with_(quantize_activations=False))
    assert no_q.energy_pJ == pytest.approx(4 * (6880 + 80 - 2100 - 700 + 0.22 * 64 + 0.043 * 128))
    eight = prediction_cost(DECOM_G4, block(), stats, DEFAULT.with_(pred_act_bits=(8,)))
    assert eight.terms["pred_adds"] == pytest.approx(4 * 0.043 * 128 * 0.5)


def test_formula_b_by_hand():
    params = DEFAULT.with_(pred_formula="B", depthwise_form="paper", dw_fix_pred_levels=("DRAM",))
    b = block(in_ch=8)
    decom = prediction_cost(DECOM_G4, b, synthetic_stats(128), params)
    assert decom.energy_pJ == pytest.approx(
        4 * (6880 + 80 - 2100 - 700 - 0.75 * 1280 - 0.75 * 600 + 0.22 * 128 / 8 + 0.043 * 128)
    )
    conv = prediction_cost(DW5, b, synthetic_stats(3200), params)  # fix on DRAM inputs, quantized term unfixed
    assert conv.energy_pJ == pytest.approx(
        6880 + 80 - 2100 - 700 + 1400 - 0.75 * 1200 - 1580 + 0.22 * 3200 / 8 + 0.043 * 3200
    )
    comp = prediction_cost(COMP, b, synthetic_stats(3200), params)  # outputs: DRAM only
    assert comp.energy_pJ == pytest.approx(6880 + 80 - 2100 - 700 - 0.75 * 1200 - 1280 + 0.22 * 3200 / 8 + 0.043 * 3200)


def test_not_a_prediction_layer():
    with pytest.raises(FusionError, match="role 'main' is not a prediction role"):
        prediction_cost(MAIN, block(), synthetic_stats(3200), DEFAULT)


# ------------------------------------------------------------------------- reference (docs/method.md §6.1)


@pytest.fixture(scope="module")
def b1_runs(mobilenet_runs):
    runs = mobilenet_runs / "fusion" / "predictions" / "b1"
    return {"pred_decom": read_run(runs / "decom"), "pred_conv": read_run(runs / "conv")}


def test_paper_block1_worked_example(b1_runs):
    b1 = load_network("mobilenet", "cifar10", "fused").block(1)
    paper = load_params("paper", "mobilenet", "cifar10")
    decom = prediction_cost(b1.layer("pred_decom"), b1, b1_runs["pred_decom"], paper)
    conv = prediction_cost(b1.layer("pred_conv"), b1, b1_runs["pred_conv"], paper)
    assert (round(decom.energy_pJ * 1e-6, 2), decom.cycles) == (89.74, 9216)
    assert (round(conv.energy_pJ * 1e-6, 2), conv.cycles) == (300.65, 5184)
    assert conv.terms["run"] == 180.69e6  # the 2-decimal summary line
    assert round(conv.terms["dw_fix"] * 1e-6, 1) == 1149.3
    assert round(conv.terms["inputs_quantized"] * 1e-6, 1) == -865.5
    assert conv.energy_pJ == pytest.approx(sum(conv.terms.values()))


def test_capacity_mask_storage_moves_the_sign_writes_to_the_overhead():
    """The default stores the masks in pred_glb (or spills them, fusion/overhead.py): the prediction itself writes
    no sign bits to DRAM; the reference's proxy writes 10 outputs x 1 bit x 128 pJ / 16 bits."""
    stats = synthetic_stats(3200)
    capacity = prediction_cost(DW5, block(), stats, DEFAULT.with_(mask_storage="capacity"))
    proxy = prediction_cost(DW5, block(), stats, DEFAULT)
    assert (capacity.terms["sign_writes"], proxy.terms["sign_writes"]) == (0.0, 80.0)
    assert proxy.energy_pJ - capacity.energy_pJ == pytest.approx(80.0)
