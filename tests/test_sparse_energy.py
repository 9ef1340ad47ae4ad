"""Sparse energy: the paper preset reproduces the reference's numbers from the recorded runs (corpus and fixtures); the
default model's formula is checked by hand on MobileNetV2 b1 decom; parameter loading and its errors."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
import yaml
from fixtures import read_run

from accelerators.dense import depthwise_input_fix
from sparsity.energy import SparseEnergyError, base_energy_pJ, pe_levels, sparse_energy
from sparsity.evaluate import evaluate_layer
from sparsity.params import SPARSE_YAML, SparseParamsError, load_params, presets
from workloads.layer import Layer
from workloads.problem import parse_problem

PAPER_S = 0.91  # the reference's hard-coded sparsity (docs/method.md §5.3)


@lru_cache(maxsize=1)
def reported_blocks(reference_dir) -> list[dict]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    entries = yaml.load((reference_dir / "networks.yaml").read_text(), Loader=loader)["entries"]
    entry = next(
        e for e in entries if (e["network"], e["dataset"], e["variant"]) == ("mobilenet", "cifar10", "baseline")
    )
    return entry["blocks"]


# ----------------------------------------------------------------------------------------- paper preset


def test_paper_b1_decom_worked_check(mobilenet_runs):
    """docs/method.md §5.3: E = 25.59 uJ (the 2-decimal summary), E_DW = 196,608, E_SW = 1,863,229.44,
    E_II = 411,238.40 pJ -> 24.5129 uJ (CSV 24.5128535296)."""
    stats = read_run(mobilenet_runs / "baseline" / "b1" / "decom")
    params = load_params("paper")
    assert params.base_energy == "summary" and base_energy_pJ(stats, params) == pytest.approx(25.59e6, abs=1e-6)
    by_hand = 25.59e6 - (
        PAPER_S * 196_608 * (1 - 10 / 16) + PAPER_S * 1_863_229.44 * (1 - 10 / 16) + PAPER_S * 411_238.40
    )
    result = sparse_energy(stats, params.density, params, "ifmap_spad")
    assert result.energy_pJ == pytest.approx(by_hand, rel=1e-12)
    assert result.energy_pJ / 1e6 == pytest.approx(24.5128535296, abs=1e-9)
    assert round(result.energy_pJ / 1e6, 4) == 24.5129
    assert result.savings_pJ["mac/MAC"] == 0.0
    assert {k for k, v in result.savings_pJ.items() if v} == {
        "DRAM/Weights",
        "weights_spad/Weights",
        "ifmap_spad/Inputs",
    }


def test_paper_b1_comp(mobilenet_runs):
    stats = read_run(mobilenet_runs / "baseline" / "b1" / "comp")
    params = load_params("paper")
    energy_uJ = sparse_energy(stats, params.density, params, "ifmap_spad").energy_pJ / 1e6
    assert energy_uJ == pytest.approx(32.0414795297, abs=1e-9)


def test_paper_summary_base_vs_total(mobilenet_runs):
    """The summary base (the reference's choice) differs from the full-precision total by its rounding only."""
    stats = read_run(mobilenet_runs / "baseline" / "b1" / "decom")
    paper = load_params("paper")
    total = load_params("paper", {"base_energy": "total"})
    summary = sparse_energy(stats, paper.density, paper, "ifmap_spad").energy_pJ
    full = sparse_energy(stats, total.density, total, "ifmap_spad").energy_pJ
    assert full - summary == pytest.approx(stats.total_energy_pJ - 25.59e6) == pytest.approx(669.31, abs=0.01)
    # without the stats meta the summary is the total rounded to 0.01 uJ, as Timeloop prints it
    stats.meta.pop("energy_summary_uJ")
    assert base_energy_pJ(stats, paper) == pytest.approx(25.59e6, abs=1e-6)


@pytest.mark.parametrize("block", range(1, 17))
def test_paper_energies_of_every_block(block, reference_dir, mobilenet_runs):
    """Pointwise layers through the formula; the depthwise layer through evaluate_layer, where the paper preset
    keeps its dense energy (2-decimal summary + the workflow's paper-form input fix)."""
    reported = reported_blocks(reference_dir)[block - 1]["reported"]["sparse_energy_uJ"]
    params = load_params("paper")
    for role in ("decom", "comp"):
        stats = read_run(mobilenet_runs / "baseline" / f"b{block}" / role)
        ours = sparse_energy(stats, params.density, params, "ifmap_spad").energy_pJ / 1e6
        assert ours == pytest.approx(reported[role], rel=1e-10), role
    run_dir = mobilenet_runs / "baseline" / f"b{block}" / "conv"
    stats, inst = read_run(run_dir), parse_problem(run_dir / "prob" / "prob.yaml").instance
    mid = inst["M"]
    layer = Layer(
        f"b{block}.conv",
        "depthwise",
        3,
        3,
        inst["P"],
        inst["Q"],
        mid,
        mid,
        stride=inst["Wstride"],
        groups=mid,
        part="body",
        block=block,
        role="conv",
    )
    result = evaluate_layer(
        layer,
        stats,
        np.ones((3, 3, mid, 1)),
        params,
        extra_dense_pJ=sum(depthwise_input_fix(stats, layer, "paper").values()),
    )
    assert not result.sparse_energy and result.energy_pJ / 1e6 == pytest.approx(reported["conv"], rel=1e-10)


# ----------------------------------------------------------------------------------------- default model


def test_default_model_by_hand_on_b1_decom(mobilenet_runs):
    """Numbers from b1/decom stats.txt: DRAM W 196,608; wspad W 1,863,229.44; ifmap I 411,238.40 (reads 24,576,
    fills 1,024); psum O 950,009.86 (reads 18,432, updates 24,576, fills 6,144); MAC 3,460,300.80;
    total 25,590,669.31."""
    stats = read_run(mobilenet_runs / "baseline" / "b1" / "decom")
    params = load_params("default")
    d, g = 0.2, 0.103 / 2.2
    kept = d * (16 + 10) / 16
    saving = (
        (196_608 + 1_863_229.44) * (1 - kept)
        + 411_238.40 * (1 - d) * 24_576 / (24_576 + 1_024)
        + 950_009.86 * (1 - d) * (18_432 + 24_576) / (18_432 + 24_576 + 6_144)
        + 3_460_300.80 * (1 - d) * (1 - g)
    )
    result = sparse_energy(stats, d, params, "ifmap_spad")
    assert result.energy_pJ == pytest.approx(25_590_669.31 - saving, rel=1e-9)
    assert result.energy_pJ < stats.total_energy_pJ


def test_default_model_limits(mobilenet_runs):
    stats = read_run(mobilenet_runs / "baseline" / "b1" / "comp")
    params = load_params("default")
    dense = sparse_energy(stats, 1.0, params, "ifmap_spad")
    weights = sum(lvl.tensors["Weights"].energy_pJ for lvl in stats.levels[1:] if "Weights" in lvl.tensors)
    # all weights kept: only the index overhead is added
    assert dense.energy_pJ == pytest.approx(stats.total_energy_pJ + weights * 10 / 16, rel=1e-12)
    # nothing kept: weights, MAC-driven operand accesses and all but the gated MAC energy vanish
    empty = sparse_energy(stats, 0.0, params, "ifmap_spad")
    assert empty.savings_pJ["weights_spad/Weights"] == pytest.approx(stats.energy("weights_spad", "Weights"))
    assert empty.savings_pJ["mac/MAC"] == pytest.approx(stats.mac_energy_pJ * (1 - 0.103 / 2.2))
    assert 0 < empty.savings_pJ["ifmap_spad/Inputs"] < stats.energy("ifmap_spad", "Inputs")
    energies = [sparse_energy(stats, d, params, "ifmap_spad").energy_pJ for d in (0.0, 0.3, 0.6, 1.0)]
    assert energies == sorted(energies)


def test_operand_levels_are_the_pe_spads(mobilenet_runs):
    stats = read_run(mobilenet_runs / "baseline" / "b1" / "decom")
    assert pe_levels(stats, "ifmap_spad") == ["psum_spad", "weights_spad", "ifmap_spad"]
    result = sparse_energy(stats, 0.5, load_params("default"), "ifmap_spad")
    assert "shared_glb/Inputs" not in result.savings_pJ and "psum_spad/Outputs" in result.savings_pJ
    with pytest.raises(SparseEnergyError, match="PE level 'PE' is not a level of the stats"):
        sparse_energy(stats, 0.5, load_params("default"), "PE")


def test_operand_share_needs_access_counts(mobilenet_runs):
    stats = read_run(mobilenet_runs / "baseline" / "b1" / "decom")
    inputs = stats.level("ifmap_spad").tensors["Inputs"]
    inputs.reads = inputs.fills = inputs.updates = 0
    with pytest.raises(SparseEnergyError, match="ifmap_spad/Inputs: energy without access counts"):
        sparse_energy(stats, 0.5, load_params("default"), "ifmap_spad")
    assert sparse_energy(stats, 0.5, load_params("default", {"operand_accesses": "all"}), "ifmap_spad").energy_pJ > 0


# ----------------------------------------------------------------------------------------- parameters


def test_presets_and_overrides():
    assert presets() == ["default", "paper"]
    default, paper = load_params(), load_params("paper")
    assert default.mac_gating_ratio == pytest.approx(0.103 / 2.2)  # from arch/eyeriss/ERT.fuseloop.yaml
    assert (paper.density, paper.index_bits, paper.mac_gating_ratio) == (0.09, 10, 1.0)
    assert paper.energy_scope.covers("body", "pointwise") and not paper.energy_scope.covers("body", "depthwise")
    assert not paper.cycle_scope.covers("head", "conv") and default.cycle_scope.covers("tail", "fc")
    assert default.target_sparsity["pointwise"] == 0.8 and default.target_sparsity["depthwise"] == 0.7
    changed = load_params("default", {"index_bits": 4, "density": 0.25})
    assert (changed.index_bits, changed.density, changed.overrides) == (4, 0.25, {"index_bits": 4, "density": 0.25})


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"index_bit": 4}, r"field overrides.index_bit: unknown sparse parameter"),
        (
            {"density": 1.5},
            r"field overrides.density \(over .*sparse.yaml preset default\): must be a number in \[0, 1\]",
        ),
        ({"groups": "some"}, r"field overrides.groups .*'some' is not one of all, first"),
        ({"energy_scope": {"parts": ["body"]}}, r"field overrides.energy_scope .*keys parts and kinds"),
        ({"operand_tensors": ["Weights"]}, r"field overrides.operand_tensors .*list of Inputs, Outputs"),
    ],
)
def test_bad_overrides_name_the_field(overrides, message):
    with pytest.raises(SparseParamsError, match=message):
        load_params("default", overrides)


def test_bad_files_name_the_file_and_field(tmp_path):
    with pytest.raises(SparseParamsError, match=r"sparse.yaml: field presets: no preset 'fast'"):
        load_params("fast")
    spec = yaml.safe_load(SPARSE_YAML.read_text())
    del spec["presets"]["default"]["word_bits"]
    spec["presets"]["default"]["ert"] = "missing.yaml"
    path = tmp_path / "sparse.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(SparseParamsError, match=rf"{path}: field presets.default: missing word_bits"):
        load_params("default", path=path)
    spec["presets"]["default"]["word_bits"] = 16
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(
        SparseParamsError, match=r"field presets.default.ert: .*missing.yaml: cannot read an energy table"
    ):
        load_params("default", path=path)
    path.write_text("presets: [1, 2")
    with pytest.raises(SparseParamsError, match=rf"{path}: not valid YAML"):
        load_params("default", path=path)
