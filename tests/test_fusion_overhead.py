"""ARCHON overhead: action counts and energies against the reference's Accelergy run (MobileNetV2/CIFAR-10 block 1),
the worked example (overhead_e 193.86 uJ), our ERT against Accelergy's, and the default preset's formula by hand."""

from __future__ import annotations

import math

import pytest
import yaml

from fusion import FusionError, action_counts, load_params, overhead_cost, read_action_counts, write_action_counts
from fusion.overhead import estimate_energy, fused_weights, overhead_ert, weight_dram_pJ
from specs.energy import load_ert
from workloads.zoo import load_network

B1_MAIN_CYCLES = 55296


@pytest.fixture(scope="module")
def accelergy(reference_dir):
    return reference_dir / "accelergy-overhead"


@pytest.fixture(scope="module")
def paper():
    return load_params("paper", "mobilenet", "cifar10")


@pytest.fixture(scope="module")
def b1():
    return load_network("mobilenet", "cifar10", "fused").block(1)


def test_action_counts_match_accelergy_input(accelergy, paper, b1):
    ours = action_counts(b1, B1_MAIN_CYCLES, paper).by_instance()
    reference = read_action_counts(accelergy / "action_counts" / "action_counts.yaml")
    assert len(reference) == 2 + 1 + 64 * 6  # pred_glb r/w, decoder, 6 per-PE actions x 64 PEs
    assert ours == reference
    assert ours[("fusion_chip.binary_decoder", "process", ())] == 31_850_496


def test_written_action_counts_round_trip(tmp_path, accelergy, paper, b1):
    counts = action_counts(b1, B1_MAIN_CYCLES, paper)
    path = write_action_counts(counts, tmp_path / "b1" / "action_counts.yaml")
    assert read_action_counts(path) == counts.by_instance()
    data = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
    assert data["action_counts"]["version"] == 0.2
    assert data["action_counts"]["local"][0]["name"] == "fusion_chip.pred_glb"


def test_our_ert_has_accelergys_figures(accelergy, paper):
    ours = overhead_ert(str(paper.ert_path))
    theirs = load_ert(accelergy / "output" / "ERT.yaml")
    for name in ours.names():
        for action, rows in ours.actions(name).items():
            for row in rows:
                short = name.split(".")[-1]
                assert theirs.energy(short, action, **dict(row.arguments)) == row.energy_pJ, (name, action)


def test_energy_estimation_matches_accelergy_output(accelergy, paper, b1):
    counts = read_action_counts(accelergy / "action_counts" / "action_counts.yaml")
    ours = estimate_energy(counts, overhead_ert(str(paper.ert_path)))
    expected = yaml.load((accelergy / "output" / "energy_estimation.yaml").read_text(), Loader=yaml.CSafeLoader)
    expected = {c["name"]: c["energy"] for c in expected["energy_estimation"]["components"]}
    assert len(expected) == 2 + 64 * 5
    assert set(ours) == set(expected)
    for name, energy in expected.items():
        assert ours[name] == pytest.approx(energy, rel=1e-12), name


def test_worked_example_block1(paper, b1):
    cost = overhead_cost(b1, B1_MAIN_CYCLES, paper)
    uJ = {k: round(v * 1e-6, 2) for k, v in cost.terms.items()}
    assert fused_weights(b1, paper) == pytest.approx(16 * 864 * 9 * 24 * 0.013)
    assert uJ == {
        "weight_DRAM": 127.20,
        "weight_GLB": 0.0,
        "pred_DRAM": 8.39,
        "pred_glb": 0.0,
        "binary_decoder": 0.57,
        "pred_buffer": 47.00,
        "zero_replace_flag": 1.53,
        "zero_replacing": 3.06,
        "adders": 4.59,
        "masks_AND": 1.53,
        "adder_fifo": 0.0,
    }
    assert round(cost.energy_pJ * 1e-6, 2) == 193.86
    assert cost.energy_pJ == pytest.approx(sum(cost.terms.values()))


def test_default_formula_by_hand_5x5_block():
    """MnasNet block 3 (24 -> 960 -> 24, 5x5, 32x32 -> 16x16 stride 2): default counts and energy by hand, with the
    closed-form fused-weight refetch and mask proxy (the capacity models: tests/test_fusion_capacity.py)."""
    block = load_network("mnasnet", "cifar10", "fused").block(3)
    assert (block.in_ch, block.mid_ch, block.out_ch, block.pixels, block.kernel) == (24, 960, 24, 16, 5)
    params = load_params("default").with_(weight_refetch="tiles", mask_storage="proxy", count_pred_glb=False)
    cycles = 10_000
    counts = {(a.component, a.action): a.count for a in action_counts(block, cycles, params).per_pe}
    chip = {(a.component, a.action): a.count for a in action_counts(block, cycles, params).chip}
    A, tiles = 24, 4  # 6 adders x 4 lanes; 256 pixels / 64 PEs
    assert chip[("pred_glb", "write")] == chip[("pred_glb", "read")] == 960 * 256 // 64 * 2
    assert chip[("binary_decoder", "process")] == cycles * 16 * A
    assert counts[("prediction_buffer", "write")] == 960 // 8 * tiles * 25  # 5x5 taps, not 9
    assert counts[("prediction_buffer", "read")] == A * cycles
    assert counts[("adders", "add")] == counts[("mux_", "process")] == A * cycles
    assert counts[("mux", "process")] == 2 * A * cycles
    weights = 24 * 960 * 25 * 24 * 0.013
    assert weight_dram_pJ(block, params) == pytest.approx(weights * 128 * 26 / 16 * tiles)
    glb = 7680 * (21.456 + 21.203)
    per_pe = 12000 * 0.718 + 240000 * 0.545 + 240000 * 0.054 + 2 * 240000 * 0.018 + 480000 * 0.018
    expected = weights * 208 * tiles + glb * 128 / 18 + 3_840_000 * 0.018 + 64 * per_pe
    assert overhead_cost(block, cycles, params).energy_pJ == pytest.approx(expected, rel=1e-12)
    # the paper preset keeps 9 taps (its MnasNet 5x5 quirk)
    paper = load_params("paper", "mnasnet", "cifar10")
    assert fused_weights(block, paper) == pytest.approx(24 * 960 * 9 * 24 * 0.013)


def test_default_uses_one_formula_for_grouped_networks():
    """FusioNet block 1 (G=4): the default applies formula A (no x0.5, no +1 read, 128/18 proxy); paper uses B."""
    block = load_network("fusionet", "cifar10", "fused").block(1)
    assert (block.in_ch, block.mid_ch, block.out_ch, block.pixels, block.groups) == (32, 2368, 32, 32, 4)
    cycles = 1000

    def counts(preset: str) -> dict:
        per_pe = action_counts(block, cycles, load_params(preset, "fusionet", "cifar10")).per_pe
        return {(a.component, a.action): a.count for a in per_pe}

    default, paper = counts("default"), counts("paper")
    assert default[("adders", "add")] == 24 * cycles and paper[("adders", "add")] == 12 * cycles
    assert default[("prediction_buffer", "read")] == 24 * cycles
    assert paper[("prediction_buffer", "read")] == 24 * cycles + 1
    assert default[("prediction_buffer", "write")] == 296 * 16 * 9
    assert paper[("prediction_buffer", "write")] == math.ceil((2368 + 32) / 8) * 16
    p = load_params("default")
    assert fused_weights(block, p) == pytest.approx(8 * 592 * 9 * 32 * 0.014)
    shuffle = load_network("shufflenet", "cifar10", "fused").block(1)
    assert action_counts(shuffle, cycles, p).chip[2].count == cycles * 16 * 24  # same A and K for every network


def test_adder_fifo_and_pred_glb_knobs(paper, b1):
    base = overhead_cost(b1, B1_MAIN_CYCLES, paper)
    more = overhead_cost(b1, B1_MAIN_CYCLES, paper.with_(adder_fifo_ops_per_add=1.0, count_pred_glb=True))
    adds = 24 * B1_MAIN_CYCLES
    assert more.terms["adder_fifo"] == pytest.approx(64 * 2 * adds * 0.146)
    assert more.terms["pred_glb"] == pytest.approx(27648 * (21.456 + 21.203))
    assert more.energy_pJ - base.energy_pJ == pytest.approx(more.terms["adder_fifo"] + more.terms["pred_glb"])


def test_missing_ert_row_and_bad_counts_file(tmp_path, paper, b1):
    ert = tmp_path / "ERT.yaml"
    ert.write_text(
        "ERT:\n  version: 0.3\n  tables:\n  - name: fusion_chip.pred_glb\n    actions:\n"
        "    - {name: idle, arguments: null, energy: 0.0}\n"
    )
    with pytest.raises(FusionError, match="no energy for fusion_chip.pred_glb write"):
        overhead_cost(b1, B1_MAIN_CYCLES, paper, ert=load_ert(ert))
    bad = tmp_path / "counts.yaml"
    bad.write_text("action_counts:\n  local:\n  - name: x\n    action_counts:\n    - {name: add, counts: many}\n")
    with pytest.raises(
        FusionError, match=r"field action_counts.local\[0\].action_counts\[0\]: needs a name and integer counts"
    ):
        read_action_counts(bad)
