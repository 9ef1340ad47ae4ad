"""A fused block by hand on synthetic runs: the four energy terms and three phases, the main conv (DRAM weights
removed, grouped repeat), the closed-form overhead (the default preset with the closed-form fused-weight and mask
knobs; the capacity models are tests/test_fusion_capacity.py), JSON round trip, and bad blocks."""

from __future__ import annotations

import pytest

from engines.stats import LayerStats, LevelStats, TensorStats
from fusion import BlockResult, FusionError, evaluate_block, evaluate_blocks, load_params, main_cost, prediction_cost
from workloads.layer import Layer
from workloads.network import Block

T = TensorStats
DEFAULT = load_params("default")
# the default preset with the closed-form fused-weight refetch and the reference's mask proxy
CLOSED = DEFAULT.with_(weight_refetch="tiles", mask_storage="proxy", count_pred_glb=False)


def run(total: float = 6880.0, cycles: int = 1000, macs: int = 1152) -> LayerStats:
    levels = [
        LevelStats("mac", 64, arithmetic_energy_pJ=700.0),
        LevelStats("psum_spad", 64, tensors={"Outputs": T(1000.0)}),
        LevelStats("ifmap_spad", 64, tensors={"Inputs": T(600.0)}),
        LevelStats("DummyBuffer", 8),
        LevelStats("shared_glb", 1, tensors={"Inputs": T(400.0), "Outputs": T(300.0)}),
        LevelStats(
            "DRAM", 1, tensors={"Weights": T(1600.0), "Inputs": T(200.0), "Outputs": T(1280.0, partition_size=10)}
        ),
    ]
    return LayerStats(levels, cycles=cycles, macs=macs, utilization=1.0, total_energy_pJ=total)


def layer(role: str, kind: str, **dims) -> Layer:
    return Layer(name=f"b1.{role}", kind=kind, part="body", block=1, role=role, **dims)


DECOM = layer("pred_decom", "pointwise", R=1, S=1, P=4, Q=4, C=8, M=16)
CONV = layer("pred_conv", "depthwise", R=3, S=3, P=4, Q=4, C=16, M=16, groups=16)
MAIN = layer("main", "conv", R=3, S=3, P=4, Q=4, C=8, M=8)
BLOCK = Block(1, 8, 16, 8, 4, 1, 3, 1, (DECOM, CONV, MAIN), pred_bits=4, prune_factor=0.1)


def hand_overhead(main_cycles: int) -> float:
    """CLOSED: A = 24, K = 16, 9 taps, one 64-pixel tile, 16 mid channels at 4x4."""
    A = 24
    weight_dram = 8 * 16 * 9 * 8 * 0.1 * 128 * (16 + 10) / 16 * 1
    pred_dram = (16 * 16 // 64) * 2 * (21.456 + 21.203) * 128 / 18
    decoder = main_cycles * 16 * A * 0.018
    per_pe = (
        16 // 8 * 1 * 9 * 0.718
        + A * main_cycles * 0.545
        + A * main_cycles * (0.054 + 0.018 + 0.018)
        + 2 * A * main_cycles * 0.018
    )
    return weight_dram + pred_dram + decoder + 64 * per_pe


def test_block_by_hand():
    pred = {"pred_decom": run(macs=2048), "pred_conv": run(macs=2304)}
    result = evaluate_block(BLOCK, pred, run(total=9000.0, cycles=777), CLOSED)
    decom = prediction_cost(DECOM, BLOCK, pred["pred_decom"], CLOSED)
    conv = prediction_cost(CONV, BLOCK, pred["pred_conv"], CLOSED)
    assert (result.pred_decom_e, result.pred_conv_e) == (decom.energy_pJ, conv.energy_pJ)
    assert result.main_e == pytest.approx(9000.0 - 1600.0)  # DRAM weights go to the overhead
    assert result.overhead_e == pytest.approx(hand_overhead(777), rel=1e-12)
    assert result.energy_pJ == pytest.approx(decom.energy_pJ + conv.energy_pJ + 7400.0 + hand_overhead(777))
    assert (result.pred_decom_c, result.pred_conv_c, result.main_c) == (42, 42, 777)
    assert result.cycles == 42 + 42 + 777
    assert result.second_role == "pred_conv" and result.main_from == 1
    assert result.columns_uJ()["main_e"] == pytest.approx(7400.0e-6)


def test_grouped_main_repeat_depends_on_problem_form():
    grouped = MAIN.with_(kind="grouped-conv", C=8, M=8, groups=2)
    coupled = main_cost(grouped, run(total=9000.0, cycles=500), CLOSED)  # one group x 2
    assert (coupled.energy_pJ, coupled.cycles, coupled.dram_weights_pJ) == (2 * 7400.0, 1000, 3200.0)
    paper_form = main_cost(grouped, run(total=9000.0, cycles=500), CLOSED.with_(depthwise_form="paper"))
    assert (paper_form.energy_pJ, paper_form.cycles) == (7400.0, 500)  # the reference's single C/G -> M run
    summary = main_cost(MAIN, run(total=9_004_999.0), CLOSED.with_(base_energy="summary"))
    assert summary.energy_pJ == pytest.approx(9.0e6 - 1600.0)  # 9.004999 uJ prints as 9.00


def test_default_simulates_every_block():
    layers = tuple(layer.with_(name=f"b2.{layer.role}", block=2) for layer in BLOCK.layers)
    blocks = [BLOCK, Block(2, 8, 16, 8, 4, 1, 3, 1, layers, pred_bits=4, prune_factor=0.1)]
    stats = {f"b{k}.{role}": run(macs=2048) for k in (1, 2) for role in ("pred_decom", "pred_conv")}
    stats |= {"b1.main": run(total=9000.0, cycles=700), "b2.main": run(total=5000.0, cycles=300)}
    own = evaluate_blocks(blocks, stats, CLOSED)
    assert [(r.main_e, r.main_c, r.main_from) for r in own] == [(7400.0, 700, 1), (3400.0, 300, 2)]
    assert own[1].overhead_e == pytest.approx(hand_overhead(300), rel=1e-12)
    reused = evaluate_blocks(blocks, stats, CLOSED.with_(main_reuse=(2,)))  # the paper switch
    assert [(r.main_e, r.main_c, r.main_from) for r in reused] == [(7400.0, 700, 1), (7400.0, 700, 1)]
    assert reused[1].overhead_e == pytest.approx(hand_overhead(700), rel=1e-12)
    with pytest.raises(FusionError, match="block 1 has no previous block to reuse"):
        evaluate_blocks(blocks, stats, CLOSED.with_(main_reuse=(1,)))


def test_json_round_trip(tmp_path):
    pred = {"pred_decom": run(macs=2048), "pred_conv": run(macs=2304)}
    result = evaluate_block(BLOCK, pred, run(), CLOSED)
    assert BlockResult.from_json(result.to_json()) == result
    path = tmp_path / "b1.json"
    result.to_json(path)
    assert BlockResult.from_json(path) == result
    assert BlockResult.from_json(str(path)).overhead_terms == result.overhead_terms


def test_bad_blocks():
    with pytest.raises(FusionError, match=r"block 1: no run for pred_conv"):
        evaluate_block(BLOCK, {"pred_decom": run()}, run(), DEFAULT)
    se = Layer(name="b1.se_reduce", kind="fc", R=1, S=1, P=1, Q=1, C=16, M=4, part="body", block=1, role="se_reduce")
    with pytest.raises(FusionError, match="a fused block needs pred_decom, one of pred_conv/pred_comp and main"):
        evaluate_block(Block(1, 8, 16, 8, 4, 1, 3, 1, BLOCK.layers + (se,)), {}, run(), DEFAULT)
    with pytest.raises(FusionError, match="block 1: no main run given"):
        evaluate_block(BLOCK, {"pred_decom": run(), "pred_conv": run()}, None, DEFAULT)
    no_outputs = run()
    del no_outputs.levels[-1].tensors["Outputs"]
    with pytest.raises(FusionError, match="layer b1.pred_decom: the run has no Outputs partition size at DRAM"):
        evaluate_block(BLOCK, {"pred_decom": no_outputs, "pred_conv": run()}, run(), CLOSED)
