"""The sparse accelerator's optimistic and conservative bounds (issue 16, sparsity/energy.py omitted_costs), by hand.

A 1x1 layer 4 -> 4 at 1x1 on arch/eyeriss (paper table), mapped on two PEs: GLB M2 across X | psum_spad M2 C4. PE 0
multiplies the weights of output channels 0-1, PE 1 those of 2-3 (the outer M loop is the more significant digit).
Pruned kernel: PE 0 keeps 6 of its 8 weights, PE 1 keeps 2. One pass, so the layer takes max(6, 2) = 6 cycles, performs
8 MACs, and leaves 2 x 6 - 8 = 4 idle PE-cycles. Conservative costs (paper table): index decode 8 x 0.049 pJ (the
weights spad's zero-delta read: its address-generator add), idle PEs 4 x (0.066 + 0.018 + 0.012 + 0.018) pJ (the
idle actions of the MAC and the three spads), pointers 16 bits per 4 weights (one column of M = 4) on the Weights
energy at DRAM and the weights spad.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import accelerators
from accelerators.dense import EYERISS
from analysis.summary import summarize
from engines import get_engine
from engines.mapping import LevelMapping, Loop, Mapping
from sparsity import evaluate_layer
from sparsity.params import SparseParamsError, bounds, load_params
from specs.energy import parse_ert
from workloads.layer import Layer
from workloads.problem import problems_for, render_problem
from workloads.zoo import load_network

PW = Layer("head.PW1", "pointwise", R=1, S=1, P=1, Q=1, C=4, M=4, part="head", role="layer")
KERNEL = np.ones((1, 1, 4, 4))
KERNEL[0, 0, 0, 0] = KERNEL[0, 0, 1, 1] = 0  # PE 0 (M 0-1): 6 kept
KERNEL[0, 0, :, 2:] = 0
KERNEL[0, 0, 0, 2] = KERNEL[0, 0, 1, 3] = 1  # PE 1 (M 2-3): 2 kept
IDLE_PE = 0.066 + 0.018 + 0.012 + 0.018
INDEX_DECODE = 0.049


@pytest.fixture(scope="module")
def stats(tmp_path_factory):
    (problem,) = problems_for(PW)
    path = tmp_path_factory.mktemp("pw") / "problem.yaml"
    path.write_text(render_problem(problem))
    mapping = Mapping(
        (
            LevelMapping("DRAM", (), ("Weights", "Inputs", "Outputs")),
            LevelMapping("shared_glb", (Loop("M", 2, "X"),), ("Inputs", "Outputs")),
            LevelMapping("DummyBuffer", (), ()),
            LevelMapping("ifmap_spad", (), ("Inputs",)),
            LevelMapping("weights_spad", (), ("Weights",)),
            LevelMapping("psum_spad", (Loop("M", 2), Loop("C", 4)), ("Outputs",)),
        )
    )
    return get_engine("embedded").model(EYERISS, path, mapping)


def test_bounds_by_hand(stats):
    assert bounds("default") == ["optimistic", "conservative"] and bounds("paper") == []
    optimistic = evaluate_layer(PW, stats, KERNEL, load_params("default", bound="optimistic"))
    conservative = evaluate_layer(PW, stats, KERNEL, load_params("default", bound="conservative"))
    assert (optimistic.cycles, optimistic.sparse_macs, optimistic.pes, optimistic.passes) == (6, 8, 2, 1)
    assert optimistic.costs_pJ == {"index_decode": 0.0, "pointers": 0.0, "idle_pe": 0.0}
    assert optimistic.energy_pJ == evaluate_layer(PW, stats, KERNEL, load_params("default")).energy_pJ
    weights = stats.energy("DRAM", "Weights") + stats.energy("weights_spad", "Weights")
    assert conservative.costs_pJ == {
        "index_decode": pytest.approx(8 * INDEX_DECODE),
        "pointers": pytest.approx(weights * 16 / (16 * 4)),
        "idle_pe": pytest.approx(4 * IDLE_PE),
    }
    assert conservative.energy_pJ - optimistic.energy_pJ == pytest.approx(sum(conservative.costs_pJ.values()))
    assert conservative.cycles == optimistic.cycles and conservative.bound == "conservative"


def test_table_values_come_from_the_energy_table_given():
    """With the runs' table (the workflow passes the one energy_tables selects) every table-derived value is read
    from it: the MAC gating ratio, the index decode reference and the idle PE."""
    pe = "system.chip.PE[0..3]"
    table = parse_ert(
        {
            "ERT": {
                "version": 0.3,
                "tables": [
                    {
                        "name": "system.DRAM",
                        "actions": [{"name": "read", "energy": 100.0}, {"name": "idle", "energy": 5.0}],
                    },
                    {
                        "name": f"{pe}.mac",
                        "actions": [
                            {"name": "mac_random", "energy": 4.0},
                            {"name": "mac_gated", "energy": 1.0},
                            {"name": "idle", "energy": 0.5},
                        ],
                    },
                    {
                        "name": f"{pe}.weights_spad",
                        "actions": [
                            {"name": "read", "arguments": {"address_delta": 0, "data_delta": 0}, "energy": 0.25},
                            {"name": "read", "arguments": {"address_delta": 1, "data_delta": 1}, "energy": 2.0},
                            {"name": "idle", "energy": 0.125},
                        ],
                    },
                ],
            }
        },
        "synthetic",
    )
    params = load_params("default", bound="conservative", energy_table=table)
    assert (params.mac_gating_ratio, params.index_decode_pJ, params.idle_pe_pJ) == (0.25, 0.25, 0.625)
    with pytest.raises(SparseParamsError, match="bounds: no bound 'middle'"):
        load_params("default", bound="middle")


def test_plugin_reports_the_band_and_the_summary_sums_it(stats, tmp_path):
    net = load_network("mobilenet", "cifar10", "baseline")
    one = replace(net, head=(PW,), blocks=(), tail=())
    np.savez(tmp_path / "weights.npz", **{PW.name: KERNEL})
    artifacts = {"weights.npz": tmp_path / "weights.npz"}

    def settings(bound: str) -> dict:
        return {
            "engine": "embedded",
            "problem": {"depthwise": "coupled"},
            "sparse": {"preset": "default", "overrides": {}, "bound": bound},
        }

    sparse = accelerators.get("sparse")
    conservative = sparse.table(one, {PW.name: stats}, artifacts, settings("conservative"))
    optimistic = sparse.table(one, {PW.name: stats}, artifacts, settings("optimistic"))
    (row,), (low_row,) = conservative.rows, optimistic.rows
    assert row["energy_uJ"] == row["energy_high_uJ"] > row["energy_low_uJ"] == low_row["energy_uJ"]
    assert (low_row["energy_low_uJ"], low_row["energy_high_uJ"]) == (row["energy_low_uJ"], row["energy_high_uJ"])
    details = conservative.details[PW.name]
    assert details["bounds_energy_pJ"]["conservative"] - details["bounds_energy_pJ"]["optimistic"] == pytest.approx(
        8 * INDEX_DECODE + 4 * IDLE_PE + details["costs_pJ"]["pointers"]
    )
    dense = accelerators.get("dense").table(one, {PW.name: stats}, {}, settings("conservative")).rows
    summary = summarize(pd.DataFrame(conservative.rows + dense)).set_index("accelerator")
    assert summary.loc["sparse", "energy_low_uJ"] == pytest.approx(row["energy_low_uJ"])
    assert summary.loc["sparse", "energy_high_uJ"] == pytest.approx(row["energy_uJ"])
    assert np.isnan(summary.loc["dense", "energy_low_uJ"]) and np.isnan(summary.loc["dense", "energy_high_uJ"])
    paper = {**settings("conservative"), "sparse": {"preset": "paper", "overrides": {}, "bound": "conservative"}}
    (paper_row,) = sparse.table(one, {PW.name: stats}, artifacts, paper).rows
    assert np.isnan(paper_row["energy_low_uJ"])  # the paper preset is one value: no band
