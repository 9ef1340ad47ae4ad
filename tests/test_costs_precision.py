"""Per-layer precision in the energy model: the fast mode's rescaling (tensor widths, the partial-sum rule, the
MAC model) on a hand-built run, the exact mode's rendered arch, and both modes on one MobileNetV2 layer."""

from pathlib import Path

import pytest
import yaml

from costs.choices import LayerChoice
from costs.exact_arch import exact_mode, level_widths, write_precision_arch
from costs.multipliers import library_multiplier
from costs.precision import PrecisionModel, fast_mode, reduction_level, scaled_total_pJ, tensor_widths
from engines import LayerStats, LevelMapping, LevelStats, Loop, Mapping, TensorStats
from engines.embedded import load_arch_and_energy
from specs.arch import load_arch

ROOT = Path(__file__).resolve().parents[1]
EYERISS = ROOT / "arch" / "eyeriss"
SHARE = 0.8 / 0.86  # the default multiplier share of a 16-bit MAC (Horowitz, 45 nm)


def run(reduce_at: str = "DummyBuffer") -> LayerStats:
    """An Eyeriss-shaped run: MAC 1000 pJ; psum_spad Outputs 100; weights_spad Weights 200; ifmap_spad Inputs 50;
    shared_glb Inputs 300 / Outputs 400; DRAM Weights 1000, Inputs 2000, Outputs 3000; 7 pJ of network energy.
    The C loop (a reduction) sits at `reduce_at`."""

    def level(name, **energies):
        return LevelStats(name, tensors={t: TensorStats(e, energy_per_access_pJ=1.0) for t, e in energies.items()})

    levels = [
        LevelStats("mac", arithmetic_energy_pJ=1000.0),
        level("psum_spad", Outputs=100.0),
        level("weights_spad", Weights=200.0),
        level("ifmap_spad", Inputs=50.0),
        level("DummyBuffer"),
        level("shared_glb", Inputs=300.0, Outputs=400.0),
        level("DRAM", Weights=1000.0, Inputs=2000.0, Outputs=3000.0),
    ]
    loops = {
        "DRAM": [Loop("Q", 8)],
        "shared_glb": [Loop("P", 32)],
        "DummyBuffer": [Loop("M", 3, "Y")],
        "ifmap_spad": [],
        "weights_spad": [Loop("R", 1)],
        "psum_spad": [Loop("M", 24)],
    }
    loops[reduce_at] = loops[reduce_at] + [Loop("C", 3)]
    mapping = Mapping(
        tuple(
            LevelMapping(name, tuple(loops[name]))
            for name in ("DRAM", "shared_glb", "DummyBuffer", "ifmap_spad", "weights_spad", "psum_spad")
        )
    )
    total = sum(lvl.energy_pJ for lvl in levels) + 7.0
    return LayerStats(levels, cycles=100, macs=1000, utilization=1.0, total_energy_pJ=total, mapping=mapping)


def test_reduction_level_and_tensor_widths():
    stats = run("DummyBuffer")
    assert reduction_level(stats) == 4  # DummyBuffer: mac 0, psum 1, weights 2, ifmap 3, DummyBuffer 4
    widths = tensor_widths(stats, LayerChoice(6, 8, 10, 24))
    assert widths["psum_spad"] == {"Outputs": 24}  # below the reduction: partial sums
    assert widths["shared_glb"] == {"Inputs": 8, "Outputs": 10}  # above it: final outputs
    assert widths["DRAM"] == {"Weights": 6, "Inputs": 8, "Outputs": 10}
    assert widths["DummyBuffer"] == {}
    # a C loop at DRAM: partial sums travel to DRAM and back
    assert tensor_widths(run("DRAM"), LayerChoice(6, 8, 10, 24))["DRAM"]["Outputs"] == 24
    assert reduction_level(LayerStats(run().levels, 1, 1, 1.0, 1.0)) is None


def test_fast_mode_by_hand():
    choice = LayerChoice(6, 8, 10, 24)
    scaled = fast_mode(run(), choice)
    assert scaled.energy("psum_spad", "Outputs") == pytest.approx(100 * 24 / 16)
    assert scaled.energy("weights_spad", "Weights") == pytest.approx(200 * 6 / 16)
    assert scaled.energy("shared_glb", "Outputs") == pytest.approx(400 * 10 / 16)
    assert scaled.energy("DRAM", "Inputs") == pytest.approx(2000 * 8 / 16)
    # MAC: multiplier share x (8/16)^2 + adder share x 24/16
    mac = SHARE * 0.25 + (1 - SHARE) * 1.5
    assert scaled.mac_energy_pJ == pytest.approx(1000 * mac)
    storage = 150 + 75 + 25 + (150 + 250) + (375 + 1000 + 1875)
    assert scaled.total_energy_pJ == pytest.approx(1000 * mac + storage + 7.0)  # network energy kept
    assert scaled_total_pJ(run(), choice) == pytest.approx(scaled.total_energy_pJ)
    assert run().energy("psum_spad", "Outputs") == 100  # the input is not modified


def test_fast_mode_at_the_reference_width_is_the_identity():
    stats = run()
    assert fast_mode(stats, LayerChoice()).total_energy_pJ == pytest.approx(stats.total_energy_pJ)


def test_approximate_multiplier_in_the_mac():
    model = PrecisionModel()
    choice = LayerChoice(8, 8, 8, 16, library_multiplier("mul8u_2AC"))
    r = 0.311 / 0.391
    assert model.mac_factor(choice) == pytest.approx(SHARE * 0.25 * r + (1 - SHARE))
    assert PrecisionModel(mult_share=1.0).mac_factor(LayerChoice(4, 4, 4, 16)) == pytest.approx(1 / 16)


def test_rendered_arch_widths_capacities_and_energies(tmp_path):
    rendered = write_precision_arch(
        EYERISS, tmp_path / "arch", {"shared_glb": 8, "psum_spad": 24, "weights_spad": 6, "DRAM": 8}, 8, 0.5
    )
    spec, energy = load_arch_and_energy(rendered.path)
    base_spec, base_energy = load_arch_and_energy(EYERISS)
    glb, base_glb = (s.storage[s.storage_index("shared_glb")] for s in (spec, base_spec))
    # 64-bit rows: 8 words of 8 bits instead of 4 of 16 -> twice the words, same energy per row
    assert (glb.word_bits, glb.block_size, glb.size) == (8, 8, 2 * base_glb.size)
    assert energy.energy("shared_glb") == pytest.approx(base_energy.energy("shared_glb"))
    # 24-bit psums in 16-bit rows: the row grows to 24 bits, 1 word per row, energy x 24/16
    psum = spec.storage[spec.storage_index("psum_spad")]
    assert (psum.word_bits, psum.block_size, psum.size) == (24, 1, 24)
    assert energy.energy("psum_spad") == pytest.approx(1.5 * base_energy.energy("psum_spad"))
    # 6-bit weights in 16-bit rows: 2 words of 6 bits per 12-bit row (448 words), energy x 12/16
    weights = spec.storage[spec.storage_index("weights_spad")]
    assert (weights.word_bits, weights.block_size, weights.size) == (6, 2, 448)
    assert energy.energy("weights_spad") == pytest.approx(0.75 * base_energy.energy("weights_spad"))
    assert spec.arithmetic.word_bits == 8 and energy.energy("mac") == pytest.approx(1.1)
    ifmap = spec.storage[spec.storage_index("ifmap_spad")]
    assert (ifmap.word_bits, ifmap.size) == (16, 16)  # not given: unchanged
    art = yaml.safe_load((rendered.path / "ART.fuseloop.yaml").read_text())["ART"]["tables"]
    areas = {e["name"].split(".")[-1]: e["area"] for e in art}
    assert areas["psum_spad"] == pytest.approx(1.5 * 537.18)  # area scales with the row width too
    assert load_arch(EYERISS).storage[0].word_bits == 16  # the source is untouched


def test_level_widths_take_the_widest_kept_tensor():
    assert level_widths(run(), LayerChoice(6, 8, 10, 24)) == {
        "psum_spad": 24,
        "weights_spad": 6,
        "ifmap_spad": 8,
        "shared_glb": 10,
        "DRAM": 10,
    }


@pytest.fixture(scope="module")
def mobilenet_layer(tmp_path_factory):
    """b3.conv (depthwise 3x3 on 144 channels at 16x16) of MobileNetV2 / CIFAR-10, mapped on the dense Eyeriss
    with the workflow's inputs, and its 16-bit baseline run."""
    from engines import get_engine
    from engines.runs import write_inputs
    from workflows import plan
    from workflows.config import load

    config = load()
    (run,) = [r for r in plan.runs(config, "mobilenet", "cifar10", "dense") if r.layer == "b3.conv"]
    d = tmp_path_factory.mktemp("b3conv")
    inputs = write_inputs(run.spec, d)
    files = (run.spec.arch_path(plan.ROOT), inputs["problem"], [inputs["constraints"]], inputs["mapper"])
    return files, get_engine("embedded").evaluate(*files), d


def test_fast_and_exact_modes_on_a_mobilenet_layer(mobilenet_layer):
    (arch, problem, constraints, mapper), baseline, workdir = mobilenet_layer
    # at the reference widths both modes give back the baseline (same arch, deterministic mapper)
    same = exact_mode(arch, problem, constraints, mapper, LayerChoice(), baseline, workdir / "w16")
    assert same.total_energy_pJ == pytest.approx(baseline.total_energy_pJ)
    assert fast_mode(baseline, LayerChoice()).total_energy_pJ == pytest.approx(baseline.total_energy_pJ)
    # 8-bit operands and outputs, 24-bit partial sums
    choice = LayerChoice(8, 8, 8, 24)
    fast = fast_mode(baseline, choice)
    exact = exact_mode(arch, problem, constraints, mapper, choice, baseline, workdir / "w8")
    assert exact.meta["precision"]["level_bits"] == {
        "psum_spad": 24,
        "weights_spad": 8,
        "ifmap_spad": 8,
        "shared_glb": 8,
        "DRAM": 8,
    }
    # roughly half the 16-bit energy; the exact mode re-maps with twice the words per buffer and may do better
    # (observed: 63.66 uJ at 16 bits, fast 32.15 uJ, exact 31.55 uJ on 2 cores)
    assert fast.total_energy_pJ < 0.55 * baseline.total_energy_pJ
    assert exact.total_energy_pJ == pytest.approx(fast.total_energy_pJ, rel=0.05)
    assert exact.cycles <= baseline.cycles
