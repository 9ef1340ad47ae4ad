"""res.csv / summary construction from per-layer rows, and the reference comparison."""

import math

import pandas as pd
import pytest

from analysis import accelerator_totals, res_table, summarize
from analysis.schema import RES_COLUMNS
from analysis.tables import TableError
from analysis.validate import compare, read_reference


def _row(acc, part, block, layer, role, phase, energy, cycles):
    return dict(
        network="net",
        dataset="d",
        accelerator=acc,
        engine="embedded",
        part=part,
        block=block,
        layer=layer,
        role=role,
        phase=phase,
        energy_uJ=energy,
        cycles=cycles,
        macs=1,
        utilisation=1.0,
    )


@pytest.fixture
def layers():
    rows = [
        _row("dense", "head", None, "head.conv1", "layer", "layer", 10.0, 100),
        _row("dense", "body", 1, "b1.decom", "decom", "layer", 1.0, 10),
        _row("dense", "body", 1, "b1.conv", "conv", "layer", 2.0, 20),
        _row("dense", "body", 1, "b1.comp", "comp", "layer", 3.0, 30),
        _row("dense", "body", 2, "b2.decom", "decom", "layer", 4.0, 40),
        _row("dense", "tail", None, "tail.FC1", "layer", "layer", 5.0, 50),
        _row("sparse", "head", None, "head.conv1", "layer", "layer", 9.0, 90),
        _row("sparse", "body", 1, "b1.conv", "conv", "layer", 1.5, 7),
        _row("sparse", "body", 1, "b1.comp", "comp", "layer", 2.5, 8),
        _row("archon", "head", None, "head.conv1", "layer", "layer", 11.0, 80),
        _row("archon", "head", None, "head.DW1", "layer", "layer", 0.5, 5),
        _row("archon", "body", 1, "b1.pred_decom", "pred_decom", "prediction", 0.25, 3),
        _row("archon", "body", 1, "b1.main", "main", "main", 0.75, 6),
        _row("archon", "body", 1, "b1.overhead", "overhead", "overhead", 0.125, 0),
    ]
    return pd.DataFrame(rows)


def test_res_table_rows_columns_and_totals(layers):
    res = res_table(layers)
    assert list(res.columns) == RES_COLUMNS
    assert list(res["layer"]) == ["head.conv1", "head.DW1", "b1", "b2", "tail.FC1", "head", "body", "tail", "total"]
    b1 = res.set_index("layer").loc["b1"]
    assert (b1["PW1/L1_e"], b1["DW_e"], b1["PW2_e"], b1["DW_c"]) == (1.0, 2.0, 3.0, 20)
    # the reference swapped these two; ours holds the depthwise layer in sparse_DW_c
    assert (b1["sparse_DW_c"], b1["sparse_PW2_c"]) == (7, 8)
    assert math.isnan(b1["sparse_PW1/L1_e"])
    assert (b1["pred_decom_e"], b1["main_e"], b1["overhead_e"], b1["main_c"]) == (0.25, 0.75, 0.125, 6)
    assert math.isnan(res.set_index("layer").loc["head.DW1", "PW1/L1_e"])  # fused-only head layer
    assert accelerator_totals(res, "dense") == (25.0, 250.0)
    assert accelerator_totals(res, "sparse") == (13.0, 105.0)
    assert accelerator_totals(res, "archon") == (12.625, 94.0)
    assert accelerator_totals(res, "dense", "body") == (10.0, 100.0)


def test_res_table_rejects_unknown_role(layers):
    bad = pd.concat([layers, pd.DataFrame([_row("dense", "body", 1, "b1.x", "pred_conv", "layer", 1, 1)])])
    with pytest.raises(TableError, match="b1.x"):
        res_table(bad)


def test_summary_speedups_and_shares(layers):
    summary = summarize(layers).set_index("accelerator")
    assert summary.loc["dense", "energy_uJ"] == 25.0
    assert summary.loc["dense", "archon_speedup"] == pytest.approx(250 / 94)
    assert summary.loc["sparse", "archon_energy_ratio"] == pytest.approx(13 / 12.625)
    assert summary.loc["archon", "archon_speedup"] == 1.0
    assert summary.loc["dense", "body_energy_share"] == pytest.approx(10 / 25)
    shares = summary.loc["archon", ["head_cycles_share", "body_cycles_share", "tail_cycles_share"]]
    assert shares.sum() == pytest.approx(1.0)


def test_reference_comparison_against_itself_and_a_perturbation(reference_dir):
    path = reference_dir / "results" / "mobilenet_cifar10_result.csv"
    ref = read_reference(path, swapped_sparse_cycles=True)
    assert list(ref["layer"][:5]) == ["head.conv1", "head.PW1", "head.DW1", "head.PW2", "b1"]
    assert list(ref["layer"][-2:]) == ["tail.PW1", "tail.FC1"]
    b1 = ref.set_index("layer").loc["b1"]
    assert (b1["sparse_DW_c"], b1["sparse_PW2_c"]) == (8192.0, 9088.0)  # un-swapped (docs/method.md §7.2, §9 item 14)
    diffs = compare(ref, ref)
    assert diffs["rel_diff"].abs().max() == 0.0
    perturbed = ref.copy()
    perturbed.loc[perturbed["layer"] == "b3", "main_e"] *= 1.10
    diffs = compare(perturbed, ref)
    worst = diffs.loc[diffs["rel_diff"].abs().idxmax()]
    assert (worst["layer"], worst["column"]) == ("b3", "main_e")
    assert worst["rel_diff"] == pytest.approx(0.10)
