"""evaluate_layer / SparseResult: recorded MobileNetV2 runs with pruned weights, scopes of the presets, grouped
layers (every group vs group 0 x G), the bandwidth-slowdown rule, JSON round trip, errors, and the workflow glue."""

from __future__ import annotations

import json
from math import ceil
from pathlib import Path

import numpy as np
import pytest
from fixtures import read_run

import accelerators
from accelerators.dense import depthwise_input_fix
from sparsity import SparseEvaluationError, SparseResult, analyse, evaluate_layer, load_params, sparse_energy
from sparsity.kernels import problem_tensor
from sparsity.pruning import glorot_kernel, keras_kernel_shape, magnitude_prune
from workloads.layer import Layer


def run(mobilenet_runs: Path, *parts: str):
    return read_run(mobilenet_runs.joinpath(*parts))


def pruned(layer: Layer, sparsity: float, seed: int = 0) -> np.ndarray:
    return magnitude_prune(glorot_kernel(keras_kernel_shape(layer), np.random.default_rng(seed)), sparsity)


B1_DECOM = Layer("b1.decom", "pointwise", 1, 1, 32, 32, 16, 96, part="body", block=1, role="decom")
B1_CONV = Layer("b1.conv", "depthwise", 3, 3, 32, 32, 96, 96, groups=96, part="body", block=1, role="conv")
HEAD_CONV1 = Layer("head.conv1", "conv", 3, 3, 32, 32, 3, 32, part="head")


def test_paper_b1_decom(mobilenet_runs):
    stats = run(mobilenet_runs, "baseline", "b1", "decom")
    weights = pruned(B1_DECOM, 0.8)
    result = evaluate_layer(B1_DECOM, stats, weights, load_params("paper"))
    cycles = analyse(stats.mapping, problem_tensor(B1_DECOM, weights), "ifmap_spad")
    assert result.energy_pJ / 1e6 == pytest.approx(24.5128535296, abs=1e-9)
    assert result.cycles == cycles.cycles < 24_576
    assert (result.dense_cycles, result.dense_run_cycles, result.pes, result.passes, result.macs_per_pass) == (
        24_576,
        24_576,
        64,
        256,
        96,
    )
    assert result.dense_macs == 1_572_864 and result.sparse_macs == np.count_nonzero(weights) * 1024
    assert result.density == pytest.approx(0.2, abs=1e-3) and result.energy_density == 0.09
    assert result.balanced_cycles == ceil(result.sparse_macs / 64) <= result.cycles
    assert result.sparse_energy and result.sparse_cycles and result.pe_level == "ifmap_spad"
    assert result.utilisation == pytest.approx(result.sparse_macs / (result.cycles * 72))


def test_json_round_trip(mobilenet_runs, tmp_path):
    result = evaluate_layer(
        B1_DECOM, run(mobilenet_runs, "baseline", "b1", "decom"), pruned(B1_DECOM, 0.8), load_params("default")
    )
    assert SparseResult.from_json(result.to_json()) == result
    result.to_json(tmp_path / "sparse.json")
    assert SparseResult.from_json(tmp_path / "sparse.json") == result
    assert json.loads((tmp_path / "sparse.json").read_text())["energy_pJ"] == result.energy_pJ
    with pytest.raises(ValueError, match="unknown field"):
        SparseResult.from_dict({**result.to_dict(), "speed": 1})


def test_paper_depthwise_energy_stays_dense(mobilenet_runs):
    """The reference's sparse DW energy is its dense one: summary + the (GLB + DRAM) input fix x (96 - 1)."""
    stats = run(mobilenet_runs, "baseline", "b1", "conv")
    weights = pruned(B1_CONV, 0.7)
    fix = sum(depthwise_input_fix(stats, B1_CONV, "paper").values())
    result = evaluate_layer(B1_CONV, stats, weights, load_params("paper"), extra_dense_pJ=fix)
    assert result.energy_pJ / 1e6 == pytest.approx(41.5729234, abs=1e-9)
    assert not result.sparse_energy and result.sparse_cycles
    assert result.balanced_cycles <= result.cycles < result.dense_cycles == 12_288
    assert result.density == pytest.approx(0.3, abs=1e-3)
    default = evaluate_layer(B1_CONV, stats, weights, load_params("default"), extra_dense_pJ=fix)
    assert default.sparse_energy and default.energy_pJ < default.dense_energy_pJ == stats.total_energy_pJ + fix
    assert default.cycles == result.cycles  # the same imbalance; the dense run was not bandwidth-limited


def test_paper_head_is_dense_default_head_is_sparse(mobilenet_runs):
    stats = run(mobilenet_runs, "head_and_tail", "baseline", "head", "baseline", "conv1")
    weights = pruned(HEAD_CONV1, 0.7)
    paper = evaluate_layer(HEAD_CONV1, stats, weights, load_params("paper"))
    assert (paper.energy_pJ, paper.cycles) == (pytest.approx(9.89e6), 12_288)
    assert not paper.sparse_energy and not paper.sparse_cycles and paper.savings_pJ == {}
    default = evaluate_layer(HEAD_CONV1, stats, weights, load_params("default"))
    assert default.balanced_cycles <= default.cycles < 12_288
    assert default.energy_pJ < stats.total_energy_pJ == default.dense_energy_pJ


def grouped_case(mobilenet_runs):
    """A grouped 1x1 (64 -> 384, G = 4) whose run is one group (16 -> 96) on b1 decom's mapping, repeated 4 times."""
    stats = run(mobilenet_runs, "baseline", "b1", "decom")
    stats.meta["repeat"] = 4
    layer = Layer("b1.decom", "grouped-pointwise", 1, 1, 32, 32, 64, 384, groups=4, part="body", block=1, role="decom")
    return stats, layer, pruned(layer, 0.8)


def test_grouped_layer_analyses_every_group(mobilenet_runs):
    stats, layer, weights = grouped_case(mobilenet_runs)
    result = evaluate_layer(layer, stats, weights, load_params("default"))
    tensor = problem_tensor(layer, weights)
    groups = [analyse(stats.mapping, tensor[..., 96 * g : 96 * (g + 1)], "ifmap_spad") for g in range(4)]
    assert result.repeat == result.groups_analysed == 4
    assert result.cycles == sum(g.cycles for g in groups)
    assert result.sparse_macs == sum(g.sparse_macs for g in groups) == np.count_nonzero(weights) * 1024
    assert result.dense_macs == layer.macs == 4 * 1_572_864 and result.dense_cycles == 4 * 24_576
    density = np.count_nonzero(weights) / weights.size
    copy = sparse_energy(stats, density, load_params("default"), "ifmap_spad")
    assert result.energy_pJ == pytest.approx(4 * copy.energy_pJ, rel=1e-12)
    first = evaluate_layer(layer, stats, weights, load_params("default", {"groups": "first"}))
    assert first.groups_analysed == 1 and first.cycles == 4 * groups[0].cycles


def test_group_slices_follow_keras_output_channels(mobilenet_runs):
    stats, layer, _ = grouped_case(mobilenet_runs)
    weights = np.zeros((1, 1, 16, 384))
    weights[0, 0, :, 192:288] = 1.0  # group 2 only
    result = evaluate_layer(layer, stats, weights, load_params("default"))
    assert result.sparse_macs == 16 * 96 * 1024 and result.cycles == 24_576
    assert evaluate_layer(layer, stats, weights, load_params("default", {"groups": "first"})).cycles == 0


def test_bandwidth_slowdown_is_kept_or_ignored(mobilenet_runs):
    stats = run(mobilenet_runs, "baseline", "b1", "decom")
    weights = pruned(B1_DECOM, 0.8)
    plain = evaluate_layer(B1_DECOM, stats, weights, load_params("default"))
    stats.cycles = 3 * 24_576 // 2  # as if the dense run were bandwidth-limited by 1.5x
    slowed = evaluate_layer(B1_DECOM, stats, weights, load_params("default"))
    assert slowed.cycles == ceil(plain.imbalance_cycles * 1.5) and slowed.dense_run_cycles == 36_864
    ignored = evaluate_layer(B1_DECOM, stats, weights, load_params("default", {"keep_bandwidth_slowdown": False}))
    assert ignored.cycles == plain.cycles


def test_errors_name_the_layer(mobilenet_runs):
    stats = run(mobilenet_runs, "baseline", "b1", "decom")
    params = load_params("default")
    with pytest.raises(SparseEvaluationError, match=r"layer b1.decom: kernel shape \(1, 1, 16, 95\) does not fit"):
        evaluate_layer(B1_DECOM, stats, np.ones((1, 1, 16, 95)), params)
    other = B1_DECOM.with_(P=16, Q=16)
    with pytest.raises(
        SparseEvaluationError, match="layer b1.decom: the mapping covers 1572864 MACs, the layer has 393216"
    ):
        evaluate_layer(other, stats, np.ones((1, 1, 16, 96)), params)
    wide = B1_DECOM.with_(M=192)
    with pytest.raises(
        SparseEvaluationError,
        match=r"R,S,C,M = \(1, 1, 16, 192\) do not fit the mapping's "
        r"R,S,C,M = \(1, 1, 16, 96\) \(a dense",
    ):
        evaluate_layer(wide, stats, np.ones((1, 1, 16, 192)), params)
    stats.meta["repeat"] = 2
    with pytest.raises(SparseEvaluationError, match="repeated 2 times but its mapping fits 1 copies"):
        evaluate_layer(B1_DECOM, stats, np.ones((1, 1, 16, 96)), params)
    stats.mapping = None
    with pytest.raises(SparseEvaluationError, match="layer b1.decom: the dense run has no mapping"):
        evaluate_layer(B1_DECOM, stats, np.ones((1, 1, 16, 96)), params)


def test_depthwise_kernel_layouts_agree(mobilenet_runs):
    """DepthwiseConv2D (k, k, ch, 1) and Conv2D(groups=ch) (k, k, 1, ch) kernels give the same result."""
    stats = run(mobilenet_runs, "baseline", "b1", "conv")
    weights = pruned(B1_CONV, 0.7)
    a = evaluate_layer(B1_CONV, stats, weights, load_params("default"))
    b = evaluate_layer(B1_CONV, stats, weights.transpose(0, 1, 3, 2), load_params("default"))
    assert a == b


def test_plugin_table(mobilenet_runs, tmp_path):
    """The sparse plug-in's table step on MobileNetV2 block 1 (the zoo layers, the recorded runs as dense stats)."""
    from dataclasses import replace

    from workloads.zoo import load_network

    net = load_network("mobilenet", "cifar10", "baseline")
    one_block = replace(net, head=(), blocks=net.blocks[:1], tail=())
    weights = {"b1.decom": pruned(B1_DECOM, 0.8), "b1.conv": pruned(B1_CONV, 0.7)}
    np.savez(tmp_path / "weights.npz", **weights)
    settings = {"sparse": {"preset": "paper", "overrides": {}}, "problem": {"depthwise": "paper"}, "engine": "x"}
    stats = {f"b1.{role}": run(mobilenet_runs, "baseline", "b1", role) for role in ("decom", "conv", "comp")}
    with pytest.raises(accelerators.AcceleratorError, match=r"weights.npz: no weights for layer 'b1.comp'"):
        accelerators.get("sparse").table(one_block, stats, {"weights.npz": tmp_path / "weights.npz"}, settings)
    two = replace(one_block, blocks=(replace(net.blocks[0], layers=net.blocks[0].layers[:2]),))
    result = accelerators.get("sparse").table(two, stats, {"weights.npz": tmp_path / "weights.npz"}, settings)
    for row, expected_uJ in zip(result.rows, (24.5128535296, 41.5729234), strict=True):
        assert row["energy_uJ"] == pytest.approx(expected_uJ, abs=1e-9)
        details = result.details[row["layer"]]
        assert details["utilisation"] > 0 and row["cycles"] == details["cycles"] < details["dense_cycles"]


def test_both_depthwise_problem_forms(mobilenet_runs, tmp_path):
    """b1.conv as the coupled Depthwise-Layer problem (no C dimension), modelled by the embedded engine on the
    recorded mapping, gives the same cycles as the recorded paper-form (C=1, M=96) run; energies are each form's."""
    from engines import get_engine
    from workloads.problem import problems_for, render_problem

    paper_run = run(mobilenet_runs, "baseline", "b1", "conv")
    (problem,) = problems_for(B1_CONV, depthwise="coupled")
    assert "C" not in problem.dimensions
    (tmp_path / "problem.yaml").write_text(render_problem(problem))
    root = Path(__file__).resolve().parents[1]
    coupled_run = get_engine("embedded").model(root / "arch" / "eyeriss", tmp_path / "problem.yaml", paper_run.mapping)
    weights = pruned(B1_CONV, 0.7, seed=4)
    params = load_params("default")
    fix_pJ = sum(depthwise_input_fix(paper_run, B1_CONV, "paper").values())
    paper = evaluate_layer(B1_CONV, paper_run, weights, params, extra_dense_pJ=fix_pJ)
    coupled = evaluate_layer(B1_CONV, coupled_run, weights, params)
    for field in ("cycles", "dense_cycles", "dense_macs", "sparse_macs", "balanced_cycles", "pes", "passes", "density"):
        assert getattr(coupled, field) == getattr(paper, field), field
    assert coupled.dense_energy_pJ == coupled_run.total_energy_pJ and coupled.energy_pJ < coupled.dense_energy_pJ


def test_pe_level_parameter(mobilenet_runs):
    """Derived by default (ifmap_spad: the outermost level with one instance per PE); an explicit level is used as
    given. b1 decom has no loop at ifmap_spad, so cutting one level lower changes nothing; cutting above the
    DummyBuffer's spatial loops is refused."""
    from sparsity import ImbalanceError

    stats = run(mobilenet_runs, "baseline", "b1", "decom")
    weights = pruned(B1_DECOM, 0.8)
    derived = evaluate_layer(B1_DECOM, stats, weights, load_params("default"))
    lower = evaluate_layer(B1_DECOM, stats, weights, load_params("default", {"pe_level": "weights_spad"}))
    assert derived.pe_level == "ifmap_spad" and lower.pe_level == "weights_spad"
    assert lower.cycles == derived.cycles
    with pytest.raises(
        ImbalanceError, match=r"spatial loop 'for M in \[0:2\) \(Spatial-Y\)' at or below the PE level 'DummyBuffer'"
    ):
        evaluate_layer(B1_DECOM, stats, weights, load_params("default", {"pe_level": "DummyBuffer"}))
