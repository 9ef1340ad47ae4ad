"""The paper preset reproduces the reference's ARCHON columns of MobileNetV2/CIFAR-10 (result.csv) from the recorded
Timeloop runs: every fused block (with and without the paper's main-run reuse) and the fused head/tail rows."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from fixtures import read_run

import accelerators
from fusion import FusionError, evaluate_blocks, evaluate_edge_layer, load_params
from workloads.zoo import load_network

ENERGY = ("pred_decom_e", "pred_conv_e", "main_e", "overhead_e")
CYCLES = ("pred_decom_c", "pred_conv_c", "main_c")
REUSED = (3, 6, 7, 10)  # 0-based 2, 5, 6, 9


@pytest.fixture(scope="module")
def net():
    return load_network("mobilenet", "cifar10", "fused")


@pytest.fixture(scope="module")
def runs(mobilenet_runs, net):
    """{layer name: LayerStats} of every fused-network run."""
    fusion, edges = mobilenet_runs / "fusion", mobilenet_runs / "head_and_tail" / "fused"
    stats = {}
    for block in net.blocks:
        k = block.index
        stats[f"b{k}.pred_decom"] = read_run(fusion / "predictions" / f"b{k}" / "decom")
        stats[f"b{k}.pred_conv"] = read_run(fusion / "predictions" / f"b{k}" / "conv")
        stats[f"b{k}.main"] = read_run(fusion / "main_computations" / f"b{k}")
    for part, folder in (("head", "fus_head"), ("tail", "fus_tail")):
        for layer in getattr(net, part):
            stats[layer.name] = read_run(edges / folder / "fusion" / layer.name.split(".", 1)[1])
    return stats


@pytest.fixture(scope="module")
def result_csv(reference_dir):
    table = pd.read_csv(reference_dir / "results" / "mobilenet_cifar10_result.csv", index_col=0)
    return table


def block_rows(result_csv) -> dict[int, dict]:
    rows = result_csv[result_csv["layer"].str.fullmatch(r"b\d+")]
    return {int(r["layer"][1:]): r for _, r in rows.iterrows() if r["main_c"] > 0}


def test_paper_reproduces_every_block(net, runs, result_csv):
    params = load_params("paper", "mobilenet", "cifar10")
    expected = block_rows(result_csv)
    results = evaluate_blocks(net.blocks, runs, params)
    assert [r.block for r in results] == sorted(expected) == list(range(1, 15))
    for result in results:
        ours, ref = result.columns_uJ(), expected[result.block]
        for column in ENERGY:  # the CSV holds %.2f values
            assert round(ours[column], 2) == pytest.approx(ref[column], abs=1e-9), (result.block, column)
        for column in CYCLES:
            assert ours[column] == ref[column], (result.block, column)
        assert result.main_from == {3: 2, 6: 5, 7: 5, 10: 9}.get(result.block, result.block)  # 7 reuses 6 = 5


def test_every_block_from_its_own_runs(net, runs, result_csv):
    """Without the reuse switch every block reads its own main run: still within 0.5% (mobilenet's reused blocks
    are shape-equivalent to their predecessors, so their own runs give the same numbers)."""
    params = load_params("paper", "mobilenet", "cifar10", {"main_reuse": []})
    expected = block_rows(result_csv)
    worst = 0.0
    for result in evaluate_blocks(net.blocks, runs, params):
        assert result.main_from == result.block
        ours = result.columns_uJ()
        for column in ENERGY + CYCLES:
            ref = expected[result.block][column]
            worst = max(worst, abs(ours[column] - ref) / ref)
    assert worst < 0.005
    assert worst < 0.001  # in fact the CSV's 2-decimal rounding is the only difference


def test_reuse_switch_needs_no_run_for_reused_blocks(net, runs):
    partial = {name: stats for name, stats in runs.items() if name not in {f"b{k}.main" for k in REUSED}}
    paper = evaluate_blocks(net.blocks, partial, load_params("paper", "mobilenet", "cifar10"))
    assert [r.main_from for r in paper if r.block in REUSED] == [2, 5, 5, 9]
    assert paper[2].main_e == paper[1].main_e and paper[6].main_c == paper[4].main_c
    with pytest.raises(FusionError, match="layer b3.main: no run"):
        evaluate_blocks(net.blocks, partial, load_params("default"))


def test_fused_head_and_tail_rows(net, runs, result_csv):
    params = load_params("paper", "mobilenet", "cifar10")
    head = result_csv.iloc[:4]
    tail = result_csv.iloc[-2:]
    for layer, (_, row) in zip(net.head + net.tail, list(head.iterrows()) + list(tail.iterrows()), strict=True):
        assert layer.name.split(".", 1)[1] == row["layer"]
        result = evaluate_edge_layer(layer, runs[layer.name], params)
        assert result.energy_pJ * 1e-6 == pytest.approx(row["main_e"], rel=1e-9), layer.name
        assert result.cycles == row["main_c"]
    dw = evaluate_edge_layer(net.head[2], runs["head.DW1"], params)
    assert dw.energy_pJ * 1e-6 == pytest.approx(14.07323541, rel=1e-9)  # 6.91 + GLB inputs x 31


def test_workflow_rows_sum_to_the_reference_total(net, runs, result_csv):
    settings = {"archon": {"preset": "paper", "overrides": {}}, "problem": {"depthwise": "paper"}, "engine": "embedded"}
    rows = accelerators.get("archon").table(net, runs, {}, settings).rows
    assert len(rows) == 4 + 14 * 4 + 2
    assert [r["phase"] for r in rows[4:8]] == ["prediction", "prediction", "main", "overhead"]
    assert rows[7]["layer"] == "b1.overhead" and rows[7]["block"] == 1
    ours = sum(r["energy_uJ"] for r in rows)
    assert ours == pytest.approx(result_csv[list(ENERGY)].to_numpy().sum(), rel=1e-4)
    assert round(ours, 2) == pytest.approx(3929.55, abs=0.02)  # docs/method.md §7.3 headline energy
    cycles = sum(r["cycles"] for r in rows)
    assert cycles == result_csv[list(CYCLES)].to_numpy().sum() == 718_116  # docs/method.md §7.3 headline cycles
    assert math.isnan(rows[7]["utilisation"])
